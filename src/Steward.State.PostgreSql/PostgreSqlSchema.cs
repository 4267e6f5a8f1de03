namespace Steward.State.PostgreSql;

/// <summary>
/// What the PostgreSQL store adds to <see cref="Steward.State.Relational.RelationalSchema"/>: the lock its initialization
/// takes and, later, the migrations of its earlier releases (<c>ADD COLUMN IF NOT EXISTS</c> and the like).
/// </summary>
internal static class PostgreSqlSchema
{
    /// <summary>Taken (for the transaction) while the schema is created, so two brokers starting at once do not race.</summary>
    public const long InitializationLock = 0x5374657761726401;

    /// <summary>Statements that bring a schema of an earlier release up to date; each is idempotent. None yet.</summary>
    public static readonly string[] Migrations = [];
}
