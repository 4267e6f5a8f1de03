namespace Steward.Engines.PostgreSql.Verify;

/// <summary>
/// What <see cref="PostgreSqlVerifier"/> found: the damaged relations with their files and blocks, the checksum
/// failures the server counted per database, and the lines of evidence (pg_amcheck, the server's log).
/// </summary>
public sealed record VerifyReport(
    IReadOnlyList<DamagedRelation> Damaged,
    IReadOnlyDictionary<string, long> ChecksumFailures,
    long RelationsChecked,
    IReadOnlyList<string> Evidence)
{
    public bool Clean => Damaged.Count == 0 && ChecksumFailures.Values.All(v => v == 0) && Evidence.Count == 0;
}
