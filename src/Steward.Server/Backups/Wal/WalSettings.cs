using Steward.Server.Configuration;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// WAL archiving as the broker uses it, from <see cref="WalOptions"/>: on, <c>archive_timeout</c> 30 s (an idle
/// instance's last write is archived within about 30 s), an incident when the oldest unarchived segment has
/// waited 5 min or the unarchived WAL needs half the free disk.
/// </summary>
internal sealed record WalSettings
{
    public bool Enabled { get; init; } = true;

    public TimeSpan ArchiveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan LagAlert { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan MonitorInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Unarchived WAL above this fraction of the free disk space raises an incident too.</summary>
    public double DiskAlertFraction { get; init; } = 0.5;

    public required Uri BrokerUrl { get; init; }

    /// <summary>Segments fetched ahead of a recovering server into the spool (<see cref="WalSpool"/>).</summary>
    public int RestorePrefetch { get; init; } = 8;

    public static WalSettings From(WalOptions options, StewardOptions broker) => new()
    {
        Enabled = options.Archiving == "on",
        ArchiveTimeout = TimeSpan.FromSeconds(options.ArchiveTimeout),
        LagAlert = TimeSpan.FromSeconds(options.LagAlert),
        MonitorInterval = TimeSpan.FromMilliseconds(options.MonitorIntervalMs),
        BrokerUrl = options.BrokerUrl is { } url ? new Uri(url) : Loopback(broker.Listen),
        RestorePrefetch = options.RestorePrefetch,
    };

    /// <summary>The broker as a local process reaches it: wildcard and any-address hosts become 127.0.0.1.</summary>
    internal static Uri Loopback(string listen)
    {
        var first = listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        var uri = new Uri(first.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" or "localhost" ? "127.0.0.1" : uri.Host;
        return new UriBuilder(uri.Scheme, host, uri.Port, "/").Uri;
    }
}
