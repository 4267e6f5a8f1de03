using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;
using Npgsql;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.HighAvailability;
using Steward.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// PostgreSQL's ha plan on a real cluster: every member a StatefulSet of its own, clients on the <c>-rw</c> Service that
/// follows the primary by its role label, failover when the primary's pod is killed.
/// </summary>
[Collection("kubernetes")]
public sealed class HighAvailabilityTests(ClusterFixture cluster, ITestOutputHelper output)
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
        // kube-proxy programs a Service's new endpoints shortly after the label changes: a connection is retried until then.
        (await ClusterFixture.WaitForAsync(() => ScalarAsync(credentials, "SELECT pg_is_in_recovery()", readOnly: true), "a connection through the -ro Service", TimeSpan.FromSeconds(30))).ShouldBe(true, "the -ro Service reaches a standby");
        (await ScalarAsync(credentials, "SELECT pg_is_in_recovery()", readOnly: false)).ShouldBe(false, "the -rw Service reaches the primary");

        var primaryPod = await FailsOverKeepingEveryAcknowledgedWriteAsync(id, internalId, credentials, async pod =>
        {
            // kubectl delete pod --grace-period=0 --force: the pod is gone at once; its StatefulSet would make it again.
            await cluster.Client.CoreV1.DeleteNamespacedPodAsync(pod, cluster.Namespace, gracePeriodSeconds: 0);
        });
        (await cluster.IncidentsAsync(id)).First(i => i.GetProperty("summary").GetString()!.Contains("fenced", StringComparison.Ordinal))
            .GetProperty("preserved_path").GetString().ShouldBe($"/steward/{internalId}/members/{primaryPod[(name.Length + 1)..^2]}");

        // Back to full redundancy: a new member replaces the fenced one and streams from the new primary.
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "two streaming standbys again, one of them new", TimeSpan.FromMinutes(4));
        (await cluster.ObjectsAsync(internalId)).ShouldContain($"StatefulSet/{name}-m4");
        (await ClusterFixture.WaitForAsync(() => ScalarAsync(credentials, "SELECT count(*) FROM writes", readOnly: true), "the rows on a standby, through the -ro Service", TimeSpan.FromSeconds(30))).ShouldNotBeNull();

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
    }

    [Fact]
    public async Task Killing_the_primarys_server_with_SIGKILL_in_its_pod_fails_over_with_every_acknowledged_write_kept_and_fences_its_pod()
    {
        var (id, internalId) = await ProvisionAsync("hak-");
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        await ClusterFixture.WaitForAsync(async () => (await PodsWithRoleAsync(internalId, "replica")).Count == 2 ? (bool?)true : null, "both standbys on the -ro Service", TimeSpan.FromSeconds(60));

        var primaryPod = await FailsOverKeepingEveryAcknowledgedWriteAsync(id, internalId, credentials, async pod =>
        {
            // kill -9 of the postmaster, as an operator's kubectl exec would: the pod stays, the server is gone.
            var member = pod[("stw-" + internalId + "-").Length..^2];
            await cluster.PodShellAsync($"{internalId}-{member}", $"kill -9 $(cat /steward/{internalId}/members/{member}/run/server.pid)");
        });
        var incident = (await cluster.IncidentsAsync(id)).First(i => i.GetProperty("summary").GetString()!.Contains("fenced", StringComparison.Ordinal));
        // The runtime reuses a "running" status for a second (an exec per read): two failed checks within it classify the
        // same kill as a server that stopped answering (docs/kubernetes.md#high-availability-on-kubernetes).
        incident.GetProperty("class").GetString().ShouldBeOneOf(["killed-by-signal", "unhealthy-but-running"], incident.ToString());
        primaryPod.ShouldEndWith("-m1-0");

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

    /// <summary>
    /// A client writes numbered rows through the -rw Service with the binding's credentials, one per transaction, keeping
    /// those whose commit returned; <paramref name="kill"/> takes the primary's pod down. The same credentials must then
    /// write through the same Service on another member, every acknowledged row must be there, and the old primary must
    /// be fenced: its StatefulSet at 0 replicas and annotated, its pod not made again, its claim kept. Returns its pod.
    /// </summary>
    private async Task<string> FailsOverKeepingEveryAcknowledgedWriteAsync(string id, string internalId, JsonElement credentials, Func<string, Task> kill)
    {
        var primaryPod = (await PodsWithRoleAsync(internalId, "primary")).Single();
        var load = await WriteLoad.StartWithAsync(new NpgsqlConnectionStringBuilder(ConnectionString(credentials, readOnly: false)) { Timeout = 5 }.ConnectionString);
        TimeSpan killedAt;
        try
        {
            await load.WaitForMoreAsync(50, TimeSpan.FromSeconds(60));
            killedAt = load.Clock.Elapsed;
            await kill(primaryPod);

            // A force-deleted pod's server can answer for a moment after the API forgot the pod (the kubelet kills its
            // containers afterwards): the writes that prove the failover are those after another member is primary.
            await ClusterFixture.WaitForAsync(
                async () => (await PodsWithRoleAsync(internalId, "primary")) is [var promoted] && promoted != primaryPod ? (bool?)true : null,
                "another member promoted and labelled primary",
                TimeSpan.FromMinutes(2));
            await load.WaitForMoreAsync(20, TimeSpan.FromMinutes(2));
        }
        finally
        {
            // Stopped before the rows are read: a write acknowledged after the read would look lost.
            await load.DisposeAsync();
        }

        // Writes stopped being acknowledged for this long: the client's view of the failover.
        var after = load.Timeline.Where(t => t.At >= killedAt).Select(t => t.At).ToList();
        var before = load.Timeline.Where(t => t.At < killedAt).Select(t => t.At).DefaultIfEmpty(killedAt).Max();
        output.WriteLine($"first acknowledged write {(after.Min() - killedAt).TotalSeconds:0.00} s after the kill; longest pause {after.Prepend(before).Zip(after, (a, b) => b - a).Max().TotalSeconds:0.00} s; {load.Errors} failed attempts");
        // Read through -rw as a client would, again when the connection met the old server's last moments (57P01) or
        // kube-proxy's switch: the rows are read from the one primary.
        var stored = await ClusterFixture.WaitForAsync(
            async () =>
            {
                try
                {
                    var ids = new HashSet<long>();
                    await using var conn = await Pg.OpenAsync(credentials);
                    await using var cmd = new NpgsqlCommand("SELECT id FROM writes", conn);
                    await using var reader = await cmd.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        ids.Add(reader.GetInt64(0));
                    }

                    return ids;
                }
                catch (NpgsqlException)
                {
                    return null;
                }
            },
            "the rows read back through the -rw Service",
            TimeSpan.FromSeconds(60));

        load.Acknowledged.Where(n => !stored.Contains(n)).ShouldBeEmpty("every write acknowledged before, during and after the failover is on the new primary");

        var primaries = await PodsWithRoleAsync(internalId, "primary");
        primaries.Count.ShouldBe(1);
        primaries[0].ShouldNotBe(primaryPod, "the -rw Service follows the promoted standby");

        // The old primary is fenced: its StatefulSet has no replica (nothing makes its pod again), its claim is kept.
        var set = await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(primaryPod[..^2], cluster.Namespace);
        set.Spec.Replicas.ShouldBe(0);
        set.Metadata.Annotations.ShouldContainKey("steward.io/fenced");
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedPodAsync(cluster.Namespace, fieldSelector: $"metadata.name={primaryPod}")).Items.Count == 0 ? (bool?)true : null,
            "the fenced member's pod gone",
            TimeSpan.FromSeconds(60));
        (await cluster.ObjectsAsync(internalId)).ShouldContain($"PersistentVolumeClaim/data-{primaryPod}", "the fenced member's volume is kept for inspection");
        (await Osb.ApiAsync($"/instances/{id}/members")).Body.GetProperty("members").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == primaryPod[..^2].Split('-')[^1]).GetProperty("role").GetString().ShouldBe("fenced");
        return primaryPod;
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

    private static string ConnectionString(JsonElement credentials, bool readOnly) => new NpgsqlConnectionStringBuilder
    {
        Host = credentials.GetProperty(readOnly ? "ro_host" : "host").GetString(),
        Port = credentials.GetProperty(readOnly ? "ro_port" : "port").GetInt32(),
        Username = credentials.GetProperty("username").GetString(),
        Password = credentials.GetProperty("password").GetString(),
        Database = credentials.GetProperty("database").GetString(),
        Pooling = false,
        Timeout = 5,
    }.ConnectionString;

    private static async Task<object?> ScalarAsync(JsonElement credentials, string sql, bool readOnly)
    {
        await using var conn = new NpgsqlConnection(ConnectionString(credentials, readOnly));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
