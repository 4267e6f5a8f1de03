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
        var id = "ha-" + Guid.NewGuid().ToString("N")[..8];
        var started = await Osb.ProvisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlHa);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await Osb.WaitAsync(id, started.Str("operation"), timeoutSeconds: 600);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        var internalId = await cluster.InternalIdAsync(id);
        var name = "stw-" + internalId;

        // Each member is a place of its own; the endpoints are two Services selecting pods by role.
        var objects = await cluster.ObjectsAsync(internalId);
        foreach (var member in new[] { "m1", "m2", "m3" })
        {
            objects.ShouldContain($"StatefulSet/{name}-{member}");
            objects.ShouldContain($"PersistentVolumeClaim/data-{name}-{member}-0");
            objects.ShouldContain($"Service/{name}-{member}");
        }

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
