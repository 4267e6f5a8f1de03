namespace Steward.Bench.Supervision;

/// <summary>
/// The documented defaults of systemd and Kubernetes next to Steward's, with sources. Written by hand: these are
/// defaults to compare with, not measurements.
/// </summary>
internal static class Comparison
{
    public const string Table = """
        ### Compared with the defaults of systemd and Kubernetes

        Documented defaults, not measured here; Steward's column is the plan default (`HealthCheckPolicy`).

        | | systemd service unit | Kubernetes Pod (kubelet) | Steward |
        |---|---|---|---|
        | restart a crashed process by default | no: `Restart=no` (must be set, usually `on-failure`) | yes: `restartPolicy: Always` | yes, within a budget |
        | delay before a restart | `RestartSec=100ms`, constant | exponential: 10 s, 20 s, 40 s, … capped at 5 min (CrashLoopBackOff); reset after 10 min of running | 1 s doubling (1, 2, 4, 8, 16 s), capped at 60 s |
        | when it gives up | `StartLimitBurst=5` starts within `StartLimitIntervalSec=10s`: the unit fails (`start-limit-hit`) and is not restarted again | never: it keeps retrying every 5 min | 5 restarts within 300 s, a healthy moment in between does not reset it: quarantined (stopped, files preserved) |
        | hang (process alive, not answering) | not detected unless the service implements `sd_notify` watchdog pings (`WatchdogSec=` is off by default) | only with a liveness probe (none by default): `periodSeconds=10`, `timeoutSeconds=1`, `failureThreshold=3`, so about 21–31 s | protocol-level check of every instance: 5 s interval, 3 s timeout, 3 failures (at most 18.2 s); a process merely stopped (SIGSTOP) is seen at the next 200 ms tick and continued, never killed (measured above) |
        | a configuration error | with `Restart=on-failure`: started again every 100 ms until 5 starts in 10 s, then failed; the cause is in the journal only | restarted with growing backoff forever; the cause is in the container log and exit code | classified `config-error` from the server log when the restart fails, quarantined at once: no further restart, the offending line in the incident's evidence and config diff |
        | damaged data | same as a configuration error | same as a configuration error | classified `data-corruption` before any restart, quarantined with 0 restarts |

        Sources: systemd.service(5) for `Restart=` (default `no`) and `RestartSec=` (default 100 ms) and systemd.unit(5)
        for `StartLimitIntervalSec=`/`StartLimitBurst=` (defaults 10 s / 5, from `DefaultStartLimitIntervalSec=` and
        `DefaultStartLimitBurst=` of systemd-system.conf(5)), https://www.freedesktop.org/software/systemd/man/;
        Kubernetes "Pod Lifecycle", container restart policy and back-off (10 s, 20 s, 40 s, … capped at five minutes,
        reset after ten minutes of running), https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/, and the
        Probe v1 API (`periodSeconds` default 10, `timeoutSeconds` 1, `failureThreshold` 3). KEP-4603 proposes a shorter
        CrashLoopBackOff behind a feature gate; the table shows the defaults.

        """;
}
