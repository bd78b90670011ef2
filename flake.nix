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
      packages = forAll (pkgs: {
        default = pkgs.stdenv.mkDerivation {
          pname = "claudy";
          inherit version;
          src = ./.;
          nativeBuildInputs = [ pkgs.bun pkgs.nodejs_20 pkgs.importNpmLock.npmConfigHook ];
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          dontStrip = true; # strip breaks bun's compiled executables
          buildPhase = ''
            runHook preBuild
            bun build src/main.ts --compile --splitting --format=esm --minify --bytecode --compile-jit-policy=1000 \
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
