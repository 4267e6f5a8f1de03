using System.Net;
using k8s;
using k8s.Models;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// A rebuild on the cluster: a new StatefulSet and volume claim, the backup restored into it, the same Service address
/// and binding credentials; the claim it replaces is kept (relabelled) for inspection, not deleted.
/// </summary>
[Collection("kubernetes")]
public sealed class RebuildTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_PostgreSQL_instance_whose_volume_was_deleted_is_rebuilt_from_its_backup_behind_the_same_Service_with_the_same_credentials()
    {
        var id = "pgrb-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var name = "stw-" + internalId;
        await Pg.ExecuteAsync(credentials, "CREATE TABLE notes (n int PRIMARY KEY, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 1000) g");
        var backedUp = await Pg.ScalarAsync(credentials, "SELECT string_agg(n || ':' || body, ',' ORDER BY n) FROM notes");
        await Osb.BackupAsync(id);
        var address = (await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace)).Spec.ClusterIP;
        var lost = await LoseVolumeAsync(name);

        var done = await Osb.RebuildAsync(id);
        done.Str("state").ShouldBe("succeeded", done.Text);
        done.Str("description")!.ShouldContain($"preserved in persistentvolumeclaim/{cluster.Namespace}/");

        // The backup's data, through the same binding's credentials at the same address.
        (await Pg.ScalarAsync(credentials, "SELECT string_agg(n || ':' || body, ',' ORDER BY n) FROM notes")).ShouldBe(backedUp);
        (await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace)).Spec.ClusterIP.ShouldBe(address, "clients keep the Service's address");
        var objects = await cluster.ObjectsAsync(internalId);
        objects.ShouldContain($"StatefulSet/{name}");
        objects.ShouldContain($"Service/{name}");
        var claims = objects.Where(o => o.StartsWith("PersistentVolumeClaim/", StringComparison.Ordinal)).ToList();
        claims.Count.ShouldBe(1, string.Join(", ", objects));
        var claim = await cluster.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(claims[0]["PersistentVolumeClaim/".Length..], cluster.Namespace);
        claim.Metadata.Uid.ShouldNotBe(lost.Metadata.Uid, "the rebuilt instance has a volume of its own");

        // What the instance had when the rebuild began (the empty claim its pod was given again) is kept, not deleted,
        // and is no object of the instance any more.
        var preserved = (await cluster.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(cluster.Namespace, labelSelector: $"steward.io/preserved-from={internalId}")).Items;
        preserved.ShouldAllBe(c => c.Metadata.Uid != claim.Metadata.Uid);

        await Osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
        (await cluster.ObjectsAsync(internalId)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_Redis_instance_whose_volume_was_deleted_is_rebuilt_from_its_backup_with_the_same_credentials()
    {
        var id = "redisrb-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var name = "stw-" + internalId;
        (await RedisCli.RunAsync(credentials, "MSET", "greeting", "hello", "counter", "41")).ShouldBe("OK");
        await Osb.BackupAsync(id);
        await LoseVolumeAsync(name);

        var done = await Osb.RebuildAsync(id);
        done.Str("state").ShouldBe("succeeded", done.Text);

        // Redis keeps its users in an ACL file on the lost volume: the rebuild made the binding's user again.
        (await RedisCli.RunAsync(credentials, "GET", "greeting")).ShouldBe("hello");
        (await RedisCli.RunAsync(credentials, "INCR", "counter")).ShouldBe("42");

        await Osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
        (await cluster.ObjectsAsync(internalId)).ShouldBeEmpty();
    }

    /// <summary>The instance's volume is lost: its claim is deleted, and the pod that holds it (the claim goes once the pod has).</summary>
    private async Task<V1PersistentVolumeClaim> LoseVolumeAsync(string name)
    {
        var lost = await cluster.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync($"data-{name}-0", cluster.Namespace);
        await cluster.Client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(lost.Metadata.Name, cluster.Namespace);
        await cluster.Client.CoreV1.DeleteNamespacedPodAsync($"{name}-0", cluster.Namespace);
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(cluster.Namespace)).Items.All(c => c.Metadata.Uid != lost.Metadata.Uid) ? "gone" : null,
            "the deleted volume claim gone",
            TimeSpan.FromSeconds(120));
        return lost;
    }
}
