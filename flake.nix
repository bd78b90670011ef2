{
  description = "claudy: isolated Claude Code workers in containers next to a shared ChromaDB";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      version = (builtins.fromJSON (builtins.readFile ./package.json)).version;
    in
    {
      # `nix develop`: the tools `make` uses (bun and deno also come from npm through package.json).
      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.bun pkgs.nodejs_20 pkgs.docker-client pkgs.gnumake pkgs.git pkgs.tmux pkgs.hyperfine ];
        };
      });

      # `nix build`: dist/claudy as a package. npm dependencies come from package-lock.json (importNpmLock reads
      # the lockfile's integrity hashes, so no extra hash is kept here).
      # The start-up flags of scripts/build need the Bun of package.json (1.4.5); an older nixpkgs Bun builds the
      # same program as one chunk with the normal JIT policy (the same behaviour, a slower start).
      packages = forAll (pkgs:
        let
          startupFlags = pkgs.lib.optionalString (pkgs.lib.versionAtLeast pkgs.bun.version "1.4.5")
            "--splitting --format=esm --compile-jit-policy=1000";
        in {
        default = pkgs.stdenv.mkDerivation {
          pname = "claudy";
          inherit version;
          src = ./.;
          nativeBuildInputs = [ pkgs.bun pkgs.nodejs_20 pkgs.importNpmLock.npmConfigHook ];
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          dontStrip = true; # strip breaks bun's compiled executables
          buildPhase = ''
            runHook preBuild
            bun build src/main.ts --compile ${startupFlags} --minify --bytecode \
              --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
              --define 'CLAUDY_VERSION="${version}"' \
              --define 'CLAUDY_COMMIT="${self.shortRev or "dirty"}"' \
              --outfile dist/claudy
            runHook postBuild
          '';
          installPhase = ''
            install -Dm755 dist/claudy $out/bin/claudy
          '';
        };
      });
    };
}
