namespace Steward.State.Relational;

/// <summary>
/// What the statements of <see cref="RelationalStateStore"/> say differently in each database; everything else is
/// SQL both SQLite and PostgreSQL accept (upserts with <c>ON CONFLICT</c>, <c>RETURNING</c>, <c>@name</c> parameters).
/// </summary>
public sealed record SqlDialect
{
    /// <summary>SQLite: its implicit <c>rowid</c>; the order of the index it walks is that of the inserts.</summary>
    public static readonly SqlDialect Sqlite = new()
    {
        InsertionOrder = "rowid",
        InsertionOrderColumn = string.Empty,
        BigInteger = "INTEGER",
        SkipLockedRows = string.Empty,
        JsonInteger = (column, property) => $"json_extract({column}, '$.{property}')",
    };

    /// <summary>PostgreSQL: an identity column, and row locks where SQLite's single writer does the serializing.</summary>
    public static readonly SqlDialect PostgreSql = new()
    {
        InsertionOrder = "seq",
        InsertionOrderColumn = "seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,",
        BigInteger = "BIGINT",
        SkipLockedRows = " FOR UPDATE SKIP LOCKED",
        JsonInteger = (column, property) => $"(({column})::jsonb ->> '{property}')::integer",
    };

    /// <summary>A column that grows with every insert (and keeps its value on update): "newest first" orders by it.</summary>
    public required string InsertionOrder { get; init; }

    /// <summary>The definition of <see cref="InsertionOrder"/> in a table that needs it ordered, empty when it is implicit.</summary>
    public required string InsertionOrderColumn { get; init; }

    /// <summary>The type of a 64-bit integer column.</summary>
    public required string BigInteger { get; init; }

    /// <summary>Appended to a subquery that picks a row to claim, so two writers never claim the same row.</summary>
    public required string SkipLockedRows { get; init; }

    /// <summary>An integer property of a JSON text column, or NULL.</summary>
    public required Func<string, string, string> JsonInteger { get; init; }
}
