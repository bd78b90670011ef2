/** The file in HAL9000_HOME/logs where `daemon run` also writes its log: its own module, so the debug bundle can name
 * it without loading the supervisor (and with it the health server and the pool manager). */
export const SUPERVISOR_LOG = "supervisor.log"
