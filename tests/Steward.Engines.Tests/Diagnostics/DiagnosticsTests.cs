using Steward.Engines.PostgreSql;
using Steward.Engines.Redis;
using Steward.Supervision;

namespace Steward.Engines.Tests.Diagnostics;

/// <summary>Log lines as PostgreSQL 15 and Redis 7 write them, and what they establish.</summary>
public sealed class DiagnosticsTests : IDisposable
{
    private readonly string _pgData = Directory.CreateTempSubdirectory("pgdata").FullName;

    public DiagnosticsTests()
    {
        Directory.CreateDirectory(Path.Combine(_pgData, "global"));
        File.WriteAllText(Path.Combine(_pgData, "PG_VERSION"), "15\n");
        File.WriteAllText(Path.Combine(_pgData, "global", "pg_control"), "x");
    }

    [Theory]
    [InlineData("2026-11-21 09:06:12.244 GMT [23548] LOG:  invalid value for parameter \"shared_buffers\": \"banana\"", FailureClass.ConfigError)]
    [InlineData("2026-11-21 09:06:12.244 GMT [1] LOG:  unrecognized configuration parameter \"shared_bufers\" in file \"/x/postgresql.conf\" line 3", FailureClass.ConfigError)]
    [InlineData("2026-11-21 09:06:12.244 GMT [1] FATAL:  configuration file \"/x/postgresql.conf\" contains errors", FailureClass.ConfigError)]
    [InlineData("2026-11-21 09:06:12.244 GMT [1] LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use", FailureClass.PortConflict)]
    [InlineData("2026-11-21 09:06:12.244 GMT [1] PANIC:  could not write to file \"pg_wal/xlogtemp.1\": No space left on device", FailureClass.DiskFull)]
    [InlineData("2026-11-21 09:06:12.244 GMT [1] PANIC:  could not locate a valid checkpoint record", FailureClass.DataCorruption)]
    public void PostgreSQL_log_lines_establish_their_class(string line, FailureClass expected)
    {
        var diagnosis = PostgreSqlDiagnostics.Diagnose(_pgData, ["2026-11-21 09:06:12.200 GMT [1] LOG:  starting PostgreSQL 15.18", line]).ShouldNotBeNull();
        diagnosis.Class.ShouldBe(expected);
        diagnosis.Evidence.ShouldBe(line);
    }

    [Fact]
    public void A_missing_pg_control_is_corruption_whatever_the_log_says()
    {
        File.Delete(Path.Combine(_pgData, "global", "pg_control"));
        PostgreSqlDiagnostics.Diagnose(_pgData, []).ShouldBe(new Diagnosis(FailureClass.DataCorruption, $"{Path.Combine("global", "pg_control")} is missing from the data directory"));
    }

    [Fact]
    public void An_ordinary_log_establishes_nothing()
    {
        PostgreSqlDiagnostics.Diagnose(_pgData, ["LOG:  database system is ready to accept connections", "LOG:  checkpoint starting: time"]).ShouldBeNull();
        RedisDiagnostics.Diagnose(_pgData, ["* Ready to accept connections"]).ShouldBeNull();
    }

    [Theory]
    [InlineData("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***", FailureClass.ConfigError)]
    [InlineData(">>> 'maxmemory-policy bogus'", null)]
    [InlineData("Bad directive or wrong number of arguments", FailureClass.ConfigError)]
    [InlineData("1:M 21 Nov 2026 09:06:01.044 # Warning: Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already in use", FailureClass.PortConflict)]
    [InlineData("1:M 21 Nov 2026 09:06:01.044 # Wrong signature trying to load DB from file", FailureClass.DataCorruption)]
    [InlineData("1:M 21 Nov 2026 09:06:01.044 # Bad file format reading the append only file appendonly.aof.1.incr.aof", FailureClass.DataCorruption)]
    public void Redis_log_lines_establish_their_class(string line, FailureClass? expected)
    {
        var diagnosis = RedisDiagnostics.Diagnose(_pgData, [line]);
        if (expected is null)
        {
            diagnosis.ShouldBeNull();
        }
        else
        {
            diagnosis.ShouldNotBeNull().Class.ShouldBe(expected.Value);
            diagnosis.Evidence.ShouldBe(line);
        }
    }

    [Fact]
    public void The_most_specific_cause_wins_when_several_lines_match()
    {
        // A full disk makes PostgreSQL PANIC; the PANIC is the symptom, the disk the cause.
        var log = new[] { "PANIC:  could not write to file \"pg_wal/x\": No space left on device", "LOG:  startup process (PID 7) was terminated by signal 6: Aborted" };
        PostgreSqlDiagnostics.Diagnose(_pgData, log).ShouldNotBeNull().Class.ShouldBe(FailureClass.DiskFull);
    }

    public void Dispose() => Directory.Delete(_pgData, recursive: true);
}
