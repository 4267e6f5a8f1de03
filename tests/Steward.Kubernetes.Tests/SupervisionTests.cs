using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// The supervisor's rules on Kubernetes: a failure is classified from what the pod reports (the server's log on the
/// volume, its exit status and OOM kills as the instance manager recorded them), and Kubernetes never restarts anything
/// on its own (the container's restart count stays 0).
/// </summary>
[Collection("kubernetes")]
public sealed class SupervisionTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_configuration_error_in_the_pod_is_classified_quarantined_and_not_restarted_in_a_loop()
    {
        var id = "conf-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
        await cluster.WaitHealthyAsync(id);
        var pod = await cluster.PodAsync(internalId);

        // An operator's edit in the pod breaks the configuration; the server is killed, so its restart reads it.
        var root = $"/steward/{internalId}";
        await cluster.PodShellAsync(internalId, $"echo \"shared_buffers = 'banana'\" >> {root}/config/postgresql.conf && kill -9 $(cat {root}/run/server.pid)");

        var incident = await cluster.WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined", "the incident quarantined as a configuration error");
        incident.GetProperty("class").GetString().ShouldBe("config-error", incident.GetRawText());
        incident.GetProperty("restarts").GetInt32().ShouldBe(1, "one restart after the kill; none after the configuration error");
        var evidence = incident.GetProperty("evidence");
        evidence.GetProperty("class_evidence").GetString()!.ShouldContain("invalid value for parameter \"shared_buffers\": \"banana\"");
        evidence.GetProperty("log_tail").EnumerateArray().Select(l => l.GetString()).ShouldContain(l => l!.Contains("banana", StringComparison.Ordinal));
        evidence.GetProperty("config_changes_since_last_healthy_start").EnumerateArray().Select(l => l.GetString()).ShouldBe(["postgresql.conf: + shared_buffers = 'banana'"]);
        incident.GetProperty("preserved_path").GetString().ShouldBe(root);

        // Nothing restarts it: not the supervisor (quarantined), not Kubernetes (same pod, its container never restarted).
        for (var look = 0; look < 5; look++)
        {
            (await cluster.PodProcessesAsync(internalId)).ShouldNotContain("postgres", "a quarantined instance's server is never started again");
            var now = await cluster.PodAsync(internalId);
            now.Metadata.Uid.ShouldBe(pod.Metadata.Uid);
            now.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        }

        (await cluster.IncidentsAsync(id)).Single().GetProperty("restarts").GetInt32().ShouldBe(1);
        (await cluster.InstanceFilesAsync(internalId)).ShouldContain("QUARANTINED");
        (await cluster.PodShellAsync(internalId, $"cat {root}/config/postgresql.conf")).ShouldContain("shared_buffers = 'banana'", "the broken file is kept for inspection");
        (await Osb.GetInstanceAsync(id)).Body.GetProperty("metadata").GetProperty("attributes").GetProperty("health").GetString().ShouldBe("failed");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_Redis_server_driven_past_its_pods_memory_limit_is_classified_oom_killed_and_restarted_in_the_same_pod()
    {
        var id = "oom-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        await cluster.WaitHealthyAsync(id);
        var pod = await cluster.PodAsync(internalId);

        // Past the pod's memory limit, the kernel's OOM killer ends the largest process of the container: the server.
        using (await OverloadAsync(credentials))
        {
            var incident = await cluster.WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved", "an incident about the OOM kill, resolved by a restart");
            incident.GetProperty("class").GetString().ShouldBe("oom-killed", incident.GetRawText());
            incident.GetProperty("evidence").GetProperty("signal").GetInt32().ShouldBe(9);
            incident.GetProperty("evidence").GetProperty("oom_killed").GetBoolean().ShouldBeTrue();
            incident.GetProperty("evidence").GetProperty("class_evidence").GetString()!.ShouldContain("OOM killer");
            incident.GetProperty("restarts").GetInt32().ShouldBe(1);
        }

        // Only the server died: the pod and its instance manager are the same, Kubernetes restarted nothing.
        var now = await cluster.PodAsync(internalId);
        now.Metadata.Uid.ShouldBe(pod.Metadata.Uid);
        now.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        (await RedisCli.RunAsync(credentials, "PING")).ShouldBe("PONG", "the binding's credentials work on the restarted server");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_server_killed_by_a_plain_SIGKILL_is_not_taken_for_an_OOM_kill()
    {
        var id = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        await cluster.WaitHealthyAsync(id);

        await cluster.PodShellAsync(internalId, $"kill -9 $(cat /steward/{internalId}/run/server.pid)");

        var incident = await cluster.WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved", "an incident about the kill, resolved by a restart");
        incident.GetProperty("class").GetString().ShouldBe("killed-by-signal", incident.GetRawText());
        incident.GetProperty("evidence").GetProperty("signal").GetInt32().ShouldBe(9);
        incident.GetProperty("evidence").GetProperty("oom_killed").GetBoolean().ShouldBeFalse();
        (await RedisCli.RunAsync(credentials, "PING")).ShouldBe("PONG");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    /// <summary>
    /// Drives a Redis instance on the 64 MB plan past its pod's 192 Mi: an 8 MB value (within the plan), then a client
    /// that asks for it 64 times without reading the replies, which Redis keeps in memory (normal clients' output
    /// buffers are unbounded). The client stays connected until it is disposed.
    /// </summary>
    private static async Task<TcpClient> OverloadAsync(JsonElement credentials)
    {
        (await RedisCli.RunAsync(credentials, "SETRANGE", "big", "8388607", "x")).ShouldBe("8388608");
        var greedy = new TcpClient();
        await greedy.ConnectAsync(credentials.GetProperty("host").GetString()!, credentials.GetProperty("port").GetInt32());
        var stream = greedy.GetStream();
        await stream.WriteAsync(Command("AUTH", credentials.GetProperty("username").GetString()!, credentials.GetProperty("password").GetString()!));
        for (var i = 0; i < 64; i++)
        {
            await stream.WriteAsync(Command("GET", "big"));
        }

        return greedy;
    }

    private static byte[] Command(params string[] words)
    {
        var text = new StringBuilder().Append('*').Append(words.Length).Append("\r\n");
        foreach (var word in words)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(word)).Append("\r\n").Append(word).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
