using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Observability;

/// <summary>/metrics after real events: a backup, a failed backup, a killed and restarted server.</summary>
[Collection("observed")]
public sealed class MetricsTests(ObservedBroker broker)
{
    /// <summary>The per-instance series documented in docs/observability.md for an instance with one backup and no incident.</summary>
    private const int SeriesPerInstance = 19;

    [Fact]
    public async Task After_a_backup_a_failed_backup_and_a_restart_the_exposition_parses_and_says_so()
    {
        var osb = broker.Osb;
        var good = "met-" + Guid.NewGuid().ToString("N")[..8];
        var bad = "metbad-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(good, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(bad, Catalogs.Redis, Catalogs.RedisStandalone);

        var backup = await osb.BackupAsync(good);
        // A file where the instance's backup directory must go: the file-system storage stage fails.
        Directory.CreateDirectory(Path.Combine(broker.Server.DataDir, "backups"));
        await File.WriteAllTextAsync(Path.Combine(broker.Server.DataDir, "backups", bad), "in the way");
        var failed = await osb.WaitBackupAsync(await osb.StartBackupAsync(bad));
        failed.Text("state").ShouldBe("failed");
        var stage = failed.Text("failed_stage");

        var pid = (await osb.ApiAsync($"/instances/{good}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        Processes.Kill(pid, 9);
        await WaitAsync(async () => (await osb.ApiAsync($"/incidents?instance={good}")).Body.GetProperty("incidents").EnumerateArray()
            .Any(i => i.GetProperty("state").GetString() == "resolved"));

        var m = await broker.ScrapeAsync();
        (string, string) Id(string id) => ("instance_id", id);
        m.Value("steward_instance_info", Id(good), ("service", "redis"), ("plan", "standalone")).ShouldBe(1);
        m.Value("steward_instance_up", Id(good)).ShouldBe(1);
        m.Value("steward_instance_health", Id(good), ("status", "healthy")).ShouldBe(1);
        m.Value("steward_instance_health", Id(good), ("status", "unhealthy")).ShouldBe(0);
        m.Value("steward_instance_restarts_total", Id(good)).ShouldBe(1);
        m.Value("steward_instance_restarts_total", Id(bad)).ShouldBe(0);
        m.Value("steward_instance_open_incidents", Id(good)).ShouldBe(0, "the incident resolved");
        m.Value("steward_instance_quarantined", Id(good)).ShouldBe(0);

        m.Value("steward_backups", Id(good)).ShouldBe(1);
        m.Value("steward_backups", Id(bad)).ShouldBe(0);
        m.Value("steward_backup_runs_total", Id(good), ("outcome", "succeeded")).ShouldBe(1);
        m.Value("steward_backup_runs_total", Id(bad), ("outcome", "failed")).ShouldBe(1);
        m.Value("steward_backup_failures_total", Id(bad), ("stage", stage)).ShouldBe(1);
        m.Find("steward_backup_failures_total", Id(good)).ShouldBeEmpty();
        m.Value("steward_backup_read_bytes_total", Id(good)).ShouldBe(backup.GetProperty("plaintext_bytes").GetInt64());
        m.Value("steward_backup_written_bytes_total", Id(good)).ShouldBe(backup.GetProperty("stored_bytes").GetInt64());
        m.Value("steward_backup_last_size_bytes", Id(good)).ShouldBe(backup.GetProperty("stored_bytes").GetInt64());
        m.Value("steward_backup_last_success_age_seconds", Id(good)).ShouldBeInRange(0, 300);
        m.Value("steward_backup_last_success_timestamp_seconds", Id(good))
            .ShouldBe(DateTimeOffset.Parse(backup.Text("completed_at"), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0, 0.01);
        m.Find("steward_backup_last_success_age_seconds", Id(bad)).ShouldBeEmpty("no backup of it ever succeeded");
        m.Value("steward_backup_duration_seconds_count", ("service", "redis"), ("kind", "rdb"), ("outcome", "succeeded")).ShouldBeGreaterThanOrEqualTo(1);

        m.Value("steward_operations_total", ("kind", "provision"), ("outcome", "succeeded")).ShouldBeGreaterThanOrEqualTo(2);
        m.Value("steward_operation_duration_seconds_count", ("kind", "provision"), ("outcome", "succeeded")).ShouldBeGreaterThanOrEqualTo(2);
        m.Value("http_requests_received_total", ("endpoint", "/api/v1/instances/{instanceId}/backups"), ("method", "POST"), ("code", "202")).ShouldBeGreaterThanOrEqualTo(2);

        // Bounded cardinality: instance ids are the only unbounded label values, and no URL path leaks in.
        m.Samples.Where(s => s.Name.StartsWith("http_", StringComparison.Ordinal))
            .ShouldAllBe(s => s.Labels.Values.All(v => !v.Contains(good, StringComparison.Ordinal) && !v.Contains(bad, StringComparison.Ordinal)));
        m.Samples.Count(s => s.Labels.GetValueOrDefault("instance_id") == good).ShouldBe(SeriesPerInstance, string.Join('\n', m.Samples.Where(s => s.Labels.GetValueOrDefault("instance_id") == good)));

        await osb.DeprovisionAsync(good, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.DeprovisionAsync(bad, Catalogs.Redis, Catalogs.RedisStandalone);
        await WaitAsync(async () => (await broker.ScrapeAsync()).Samples.All(s => s.Labels.GetValueOrDefault("instance_id") is not { } i || (i != good && i != bad)));
    }

    [Fact]
    public async Task Metrics_need_the_broker_credentials_and_refuse_an_instance_token()
    {
        var http = broker.Server.Http;
        (await http.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        (await http.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "condition not met in time");
            await Task.Delay(100);
        }
    }
}
