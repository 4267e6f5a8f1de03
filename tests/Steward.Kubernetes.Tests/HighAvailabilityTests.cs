using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;
using Npgsql;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// PostgreSQL's ha plan on a real cluster: every member a StatefulSet of its own, clients on the <c>-rw</c> Service that
/// follows the primary by its role label, failover when the primary's pod is killed.
/// </summary>
[Collection("kubernetes")]
public sealed class HighAvailabilityTests(ClusterFixture cluster)
{
    private const string RoleLabel = "steward.io/role";

    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task Killing_the_primary_pod_of_an_ha_instance_fails_over_through_the_rw_Service_with_every_acknowledged_write_kept()
    {
        var (id, internalId) = await ProvisionAsync("ha-");
        var name = "stw-" + internalId;

        // Each member is a place of its own; the endpoints are two Services selecting pods by role.
        var objects = await cluster.ObjectsAsync(internalId);
        foreach (var member in new[] { "m1", "m2", "m3" })
        {
            objects.ShouldContain($"StatefulSet/{name}-{member}");
            objects.ShouldContain($"PersistentVolumeClaim/data-{name}-{member}-0");
            objects.ShouldContain($"Service/{name}-{member}");
        }

        var spread = (await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync($"{name}-m2", cluster.Namespace)).Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution.Single().PodAffinityTerm;
        spread.TopologyKey.ShouldBe("kubernetes.io/hostname", "members prefer different nodes (the test cluster has one)");
        spread.LabelSelector.MatchLabels["steward.io/instance"].ShouldBe(internalId);
        objects.ShouldContain($"Service/{name}-rw");
        objects.ShouldContain($"Service/{name}-ro");
        var rw = await cluster.Client.CoreV1.ReadNamespacedServiceAsync($"{name}-rw", cluster.Namespace);
        rw.Spec.Selector[RoleLabel].ShouldBe("primary");
        (await PodsWithRoleAsync(internalId, "primary")).ShouldBe([$"{name}-m1-0"], "the first primary, and only it, carries the primary label");

        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        credentials.GetProperty("host").GetString().ShouldBe(rw.Spec.ClusterIP, "clients connect to the -rw Service");
        credentials.GetProperty("port").GetInt32().ShouldBe(rw.Spec.Ports.Single().Port);
        var ro = await cluster.Client.CoreV1.ReadNamespacedServiceAsync($"{name}-ro", cluster.Namespace);
        credentials.GetProperty("ro_host").GetString().ShouldBe(ro.Spec.ClusterIP);

        // The read-only Service leads to a streaming standby once the controller has seen them stream.
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "both standbys on the -ro Service", TimeSpan.FromSeconds(60));
        (await ScalarAsync(credentials, "SELECT pg_is_in_recovery()", readOnly: true)).ShouldBe(true, "the -ro Service reaches a standby");
        (await ScalarAsync(credentials, "SELECT pg_is_in_recovery()", readOnly: false)).ShouldBe(false, "the -rw Service reaches the primary");

        await Pg.ExecuteAsync(credentials, "CREATE TABLE acks (n int PRIMARY KEY)");

        // A client writes one row per transaction through the -rw Service and keeps what was acknowledged (the commit returned).
        var acknowledged = new ConcurrentBag<int>();
        var afterKill = 0;
        var killed = false;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                n++;
                try
                {
                    await using var conn = await Pg.OpenAsync(credentials);
                    while (!stop.IsCancellationRequested)
                    {
                        await using var insert = new NpgsqlCommand("INSERT INTO acks VALUES ($1)", conn) { Parameters = { new() { Value = n } } };
                        await insert.ExecuteNonQueryAsync();
                        acknowledged.Add(n);
                        if (Volatile.Read(ref killed))
                        {
                            Interlocked.Increment(ref afterKill);
                        }

                        n++;
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    // Not acknowledged: it may or may not be there. The client retries with a fresh connection.
                    await Task.Delay(100);
                }
            }
        });

        await ClusterFixture.WaitForAsync(() => Task.FromResult(acknowledged.Count >= 50 ? (bool?)true : null), "50 acknowledged writes before the kill", TimeSpan.FromSeconds(60));

        // kubectl delete pod --grace-period=0 --force: the primary's pod is gone at once; its StatefulSet would make it again.
        var primaryPod = (await PodsWithRoleAsync(internalId, "primary")).Single();
        Volatile.Write(ref killed, true);
        await cluster.Client.CoreV1.DeleteNamespacedPodAsync(primaryPod, cluster.Namespace, gracePeriodSeconds: 0);

        // The same credentials reach a new primary through the same Service.
        await ClusterFixture.WaitForAsync(() => Task.FromResult(Volatile.Read(ref afterKill) >= 20 ? (bool?)true : null), "20 acknowledged writes through the -rw Service after the kill", TimeSpan.FromMinutes(2));
        await stop.CancelAsync();
        await writer;

        var primaries = await PodsWithRoleAsync(internalId, "primary");
        primaries.Count.ShouldBe(1);
        primaries[0].ShouldNotBe(primaryPod, "the -rw Service follows the promoted standby");
        var stored = new HashSet<int>();
        await using (var conn = await Pg.OpenAsync(credentials))
        await using (var cmd = new NpgsqlCommand("SELECT n FROM acks", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetInt32(0));
            }
        }

        acknowledged.Where(n => !stored.Contains(n)).ShouldBeEmpty("every write acknowledged before, during and after the failover is on the new primary");

        // The old primary is fenced: its StatefulSet has no replica (nothing makes its pod again), its claim is kept.
        var oldSet = primaryPod[..^2];
        var set = await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(oldSet, cluster.Namespace);
        set.Spec.Replicas.ShouldBe(0);
        set.Metadata.Annotations.ShouldContainKey("steward.io/fenced");
        (await cluster.Client.CoreV1.ListNamespacedPodAsync(cluster.Namespace, fieldSelector: $"metadata.name={primaryPod}")).Items.ShouldBeEmpty("the fenced member's pod is not made again");
        (await cluster.ObjectsAsync(internalId)).ShouldContain($"PersistentVolumeClaim/data-{primaryPod}", "the fenced member's volume is kept for inspection");
        var incident = (await cluster.IncidentsAsync(id)).First(i => i.GetProperty("summary").GetString()!.Contains("fenced", StringComparison.Ordinal));
        incident.GetProperty("preserved_path").GetString().ShouldNotBeNullOrEmpty();

        // Back to full redundancy: a new member replaces the fenced one and streams from the new primary.
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "two streaming standbys again, one of them new", TimeSpan.FromMinutes(4));
        (await cluster.ObjectsAsync(internalId)).ShouldContain($"StatefulSet/{name}-m4");
        (await ScalarAsync(credentials, "SELECT count(*) FROM acks", readOnly: true)).ShouldNotBeNull();

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
    }

    [Fact]
    public async Task A_switchover_leads_the_rw_Service_to_the_chosen_standby_keeping_every_row_and_the_old_primary_follows_it()
    {
        var (id, internalId) = await ProvisionAsync("hasw-");
        var name = "stw-" + internalId;
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 1000)");
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "both standbys streaming", TimeSpan.FromSeconds(60));

        var reply = await Osb.PostAsync($"/instances/{id}/switchover", new { to = "m2" });
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.Text);
        reply.Str("to").ShouldBe("m2");
        (await PodsWithRoleAsync(internalId, "primary")).ShouldBe([$"{name}-m2-0"], "the -rw Service selects the new primary only");

        // The same credentials, through the same Service, write on m2 and see every row written on m1.
        await ClusterFixture.WaitForAsync(async () => { await Pg.ExecuteAsync(credentials, "INSERT INTO kept VALUES (1001)"); return (bool?)true; }, "a write through the -rw Service after the switchover", TimeSpan.FromSeconds(30));
        (await Pg.ScalarAsync(credentials, "SELECT count(*) FROM kept")).ShouldBe(1001L);
        (await Pg.ScalarAsync(credentials, "SELECT pg_is_in_recovery()")).ShouldBe(false);

        // The old primary is not fenced: it restarted as a standby of m2 and is back on the -ro Service.
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).SequenceEqual([$"{name}-m1-0", $"{name}-m3-0"]) ? (bool?)true : null, "m1 and m3 streaming from m2", TimeSpan.FromSeconds(60));
        (await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync($"{name}-m1", cluster.Namespace)).Spec.Replicas.ShouldBe(1);

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
    }

    [Fact]
    public async Task A_broker_killed_while_it_clones_the_standbys_of_an_ha_instance_finishes_the_provision_at_its_next_start_with_one_set_of_objects()
    {
        var id = "hacr-" + Guid.NewGuid().ToString("N")[..8];
        (await Osb.ProvisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa)).Status.ShouldBe(HttpStatusCode.Accepted);
        var internalId = await cluster.InternalIdAsync(id);
        var name = "stw-" + internalId;

        // Killed as soon as the first standby's StatefulSet exists: the primary runs, the standby's pod and clone are under way.
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.ObjectsAsync(internalId)).Contains($"StatefulSet/{name}-m2") ? "yes" : null,
            "the first standby's StatefulSet",
            TimeSpan.FromSeconds(120));
        await cluster.Server.KillAsync();
        await cluster.Server.StartProcessAsync();

        var done = await Osb.WaitAsync(id, timeoutSeconds: 600);
        done.Str("state").ShouldBe("succeeded", done.Text);
        string[] expected =
        [
            .. new[] { "m1", "m2", "m3" }.SelectMany(m => new[] { $"StatefulSet/{name}-{m}", $"Pod/{name}-{m}-0", $"Service/{name}-{m}", $"ConfigMap/{name}-{m}", $"PersistentVolumeClaim/data-{name}-{m}-0" }),
            $"Service/{name}-rw",
            $"Service/{name}-ro",
        ];
        (await cluster.ObjectsAsync(internalId)).ShouldBe(expected, ignoreOrder: true, customMessage: "one set of objects: what the killed attempt made was replaced, not duplicated");

        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('after the crash')");
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "both standbys streaming", TimeSpan.FromSeconds(60));
        await ClusterFixture.WaitForAsync(async () => await ScalarAsync(credentials, "SELECT body FROM kept", readOnly: true) as string, "the row on a standby, through the -ro Service", TimeSpan.FromSeconds(30));

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
    }

    [Fact]
    public async Task A_Redis_ha_plan_is_refused_on_Kubernetes_with_the_reason_and_leaves_nothing_in_the_cluster()
    {
        var id = "rha-" + Guid.NewGuid().ToString("N")[..8];
        var started = await Osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisHa);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var internalId = await cluster.InternalIdAsync(id);
        var done = await Osb.WaitAsync(id, started.Str("operation"), timeoutSeconds: 120);
        done.Str("state").ShouldBe("failed", done.Text);
        done.Text.ShouldContain("ha plans do not run on Kubernetes yet");
        (await cluster.ObjectsAsync(internalId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_change_from_standalone_to_ha_is_refused_on_Kubernetes_with_400_and_the_instance_keeps_serving()
    {
        var id = "conv-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var before = await cluster.ObjectsAsync(internalId);

        var update = await Osb.UpdateAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        update.Status.ShouldBe(HttpStatusCode.BadRequest, update.Text);
        update.Text.ShouldContain("not supported on Kubernetes yet");
        (await cluster.ObjectsAsync(internalId)).ShouldBe(before, ignoreOrder: true);
        (await Pg.ScalarAsync(credentials, "SELECT 1")).ShouldBe(1);

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    private async Task<(string Id, string InternalId)> ProvisionAsync(string prefix)
    {
        var id = prefix + Guid.NewGuid().ToString("N")[..8];
        var started = await Osb.ProvisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await Osb.WaitAsync(id, started.Str("operation"), timeoutSeconds: 600);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        return (id, await cluster.InternalIdAsync(id));
    }

    private async Task<IReadOnlyList<string>> PodsWithRoleAsync(string internalId, string role) =>
        [.. (await cluster.Client.CoreV1.ListNamespacedPodAsync(cluster.Namespace, labelSelector: $"steward.io/instance={internalId},{RoleLabel}={role}")).Items
            .Where(p => p.Metadata.DeletionTimestamp is null).Select(p => p.Metadata.Name).Order()];

    private static async Task<object?> ScalarAsync(JsonElement credentials, string sql, bool readOnly)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = credentials.GetProperty(readOnly ? "ro_host" : "host").GetString(),
            Port = credentials.GetProperty(readOnly ? "ro_port" : "port").GetInt32(),
            Username = credentials.GetProperty("username").GetString(),
            Password = credentials.GetProperty("password").GetString(),
            Database = credentials.GetProperty("database").GetString(),
            Pooling = false,
            Timeout = 5,
        };
        await using var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
