using System.Data.Common;

namespace Steward.State.Relational;

/// <summary>The broker lease: one row, changed only by compare-and-set on its term and version.</summary>
public abstract partial class RelationalStateStore : IBrokerLease
{
    private const string LeaseColumns = "holder, epoch, version";

    public async Task<LeaseRecord?> ReadLeaseAsync(CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {LeaseColumns} FROM broker_lease WHERE name = 'broker'", ReadLease, cancellationToken)).FirstOrDefault();

    public async Task<LeaseRecord?> TakeLeaseAsync(string holder, LeaseRecord? observed, DateTimeOffset now, CancellationToken cancellationToken) => (observed is null
        ? await QueryAsync(
            $"INSERT INTO broker_lease (name, holder, epoch, version, renewed_at) VALUES ('broker', @h, 1, 1, @now) ON CONFLICT (name) DO NOTHING RETURNING {LeaseColumns}",
            ReadLease,
            cancellationToken,
            ("@h", holder), ("@now", Time(now)))
        : await QueryAsync(
            $"UPDATE broker_lease SET holder = @h, epoch = epoch + 1, version = version + 1, renewed_at = @now WHERE name = 'broker' AND epoch = @e AND version = @v RETURNING {LeaseColumns}",
            ReadLease,
            cancellationToken,
            ("@h", holder), ("@now", Time(now)), ("@e", observed.Epoch), ("@v", observed.Version))).FirstOrDefault();

    public async Task<LeaseRecord?> RenewLeaseAsync(LeaseRecord held, DateTimeOffset now, CancellationToken cancellationToken) => (await QueryAsync(
        $"UPDATE broker_lease SET version = version + 1, renewed_at = @now WHERE name = 'broker' AND holder = @h AND epoch = @e RETURNING {LeaseColumns}",
        ReadLease,
        cancellationToken,
        ("@h", held.Holder), ("@now", Time(now)), ("@e", held.Epoch))).FirstOrDefault();

    public Task ReleaseLeaseAsync(LeaseRecord held, CancellationToken cancellationToken) => WriteAsync(
        "UPDATE broker_lease SET holder = '', version = version + 1 WHERE name = 'broker' AND holder = @h AND epoch = @e",
        cancellationToken,
        ("@h", held.Holder), ("@e", held.Epoch));

    private static LeaseRecord ReadLease(DbDataReader r) => new(r.GetString(0), r.GetInt64(1), r.GetInt64(2));
}
