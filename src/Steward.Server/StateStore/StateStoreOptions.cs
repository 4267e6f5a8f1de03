using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;
using Steward.State.PostgreSql;

namespace Steward.Server.StateStore;

/// <summary>Where the broker keeps its state, and how brokers sharing a PostgreSQL store take turns (docs/state-store.md).</summary>
[SettingsSection("State")]
public sealed record StateStoreOptions : IValidatableObject
{
    public const string Sqlite = "sqlite";
    public const string PostgreSql = "postgresql";

    [Setting("STEWARD_STATE_STORE", "where the broker's state lives: a SQLite file in the data directory, or a PostgreSQL database that several brokers share (one active, the others standby)")]
    [AllowedValues(Sqlite, PostgreSql)]
    public string Store { get; init; } = Sqlite;

    [Setting("STEWARD_STATE_POSTGRESQL", "the PostgreSQL database of the state, with STEWARD_STATE_STORE=postgresql; may carry the password, so it is never shown", Allowed = "a postgresql://user:password@host:port/database URI or a Host=…;Username=…;Password=…;Database=… string", Secret = true)]
    public string? Database { get; init; }

    [Setting("STEWARD_LEASE_DURATION_MS", "with the PostgreSQL store: how long the active broker's lease holds without a renewal; a standby takes over when it has not seen one for this long, and the active stops itself before then")]
    [Range(1000, 600_000)]
    public int LeaseDurationMs { get; init; } = 15_000;

    public bool UsesPostgreSql => Store == PostgreSql;

    public TimeSpan LeaseDuration => TimeSpan.FromMilliseconds(LeaseDurationMs);

    /// <summary>The parsed connection; only valid settings reach the store.</summary>
    public PostgreSqlConnection Connection =>
        PostgreSqlConnection.TryParse(Database, out var connection, out _) ? connection! : throw new InvalidOperationException("STEWARD_STATE_POSTGRESQL was not validated");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UsesPostgreSql && string.IsNullOrWhiteSpace(Database))
        {
            yield return new ValidationResult("required with STEWARD_STATE_STORE=postgresql", [nameof(Database)]);
        }
        else if (!UsesPostgreSql && !string.IsNullOrWhiteSpace(Database))
        {
            yield return new ValidationResult("set, but STEWARD_STATE_STORE is not postgresql: the state would not go there", [nameof(Database)]);
        }
        else if (UsesPostgreSql && !PostgreSqlConnection.TryParse(Database, out _, out var problem))
        {
            yield return new ValidationResult(problem, [nameof(Database)]);
        }
    }

    /// <summary>Settings minus the connection, which may hold a password.</summary>
    public override string ToString() => $"StateStoreOptions {{ Store = {Store}, LeaseDurationMs = {LeaseDurationMs} }}";
}
