#if canImport(Glibc)
import Glibc
#endif

/// Turns core dumps off for this process (soft and hard `RLIMIT_CORE` of 0) before the
/// configuration is read: a core file would hold the secrets `${file:}` and `${env:}` loaded
/// (Event Hubs keys, tokens, passwords) and the records in flight. The systemd unit sets
/// `LimitCORE=0` too; this also covers containers, whose limit comes from the runtime, and
/// `systemd-coredump`, which honours the limit. It is only ever lowered, which needs no privilege.
func disableCoreDumps() {
    var none = rlimit(rlim_cur: 0, rlim_max: 0)
    _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
}
