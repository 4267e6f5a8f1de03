namespace Steward.Engines.PostgreSql.Wal;

/// <summary>Where an instance sends its WAL and how often an idle instance switches segments.</summary>
public sealed record PostgreSqlWalOptions
{
    /// <summary>The broker's loopback base URL; segments go to <c>{BrokerUrl}/wal/{instance id}/{file}</c>.</summary>
    public required Uri BrokerUrl { get; init; }

    /// <summary><c>archive_timeout</c>: the longest a committed write waits before its segment is archived.</summary>
    public TimeSpan ArchiveTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
