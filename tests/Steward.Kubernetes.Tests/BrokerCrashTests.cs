using System.Net;
using k8s;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>kill -9 of the broker while it creates, changes or restores an instance's objects on the cluster.</summary>
[Collection("kubernetes")]
public sealed class BrokerCrashTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_broker_killed_mid_provision_resumes_it_at_its_next_start_and_leaves_no_orphaned_objects()
    {
        var id = "crash-" + Guid.NewGuid().ToString("N")[..8];
        (await Osb.ProvisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(HttpStatusCode.Accepted);
        var internalId = await cluster.InternalIdAsync(id);

        // Killed as soon as the instance's StatefulSet exists: its pod, volume and initdb are under way.
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.ObjectsAsync(internalId)).Any(o => o.StartsWith("StatefulSet/", StringComparison.Ordinal)) ? "yes" : null,
            "the instance's StatefulSet",
            TimeSpan.FromSeconds(60));
        await cluster.Server.KillAsync();
        await cluster.Server.StartProcessAsync();

        var done = await Osb.WaitAsync(id, timeoutSeconds: 240);
        done.Str("state").ShouldBe("succeeded", done.Text);
        var name = "stw-" + internalId;
        (await cluster.ObjectsAsync(internalId)).ShouldBe(
            [$"StatefulSet/{name}", $"Pod/{name}-0", $"Service/{name}", $"ConfigMap/{name}", $"PersistentVolumeClaim/data-{name}-0"],
            ignoreOrder: true,
            customMessage: "one set of objects: what the killed attempt made was replaced, not duplicated");
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        credentials.GetProperty("host").GetString().ShouldBe((await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace)).Spec.ClusterIP);

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_broker_killed_while_a_plan_change_replaces_the_pod_finishes_it_at_its_next_start_with_the_data_and_credentials()
    {
        var id = "crashup-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var name = "stw-" + internalId;
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('written before the plan change')");

        // Killed as soon as the StatefulSet has the new plan's memory: its controller is replacing the pod.
        var update = await Osb.UpdateAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        update.Status.ShouldBe(HttpStatusCode.Accepted, update.Text);
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, cluster.Namespace)).Spec.Template.Spec.Containers.Single().Resources.Limits["memory"].ToString() == "1152Mi" ? "yes" : null,
            "the StatefulSet with the large plan's memory",
            TimeSpan.FromSeconds(120));
        await cluster.Server.KillAsync();
        await cluster.Server.StartProcessAsync();

        var done = await Osb.WaitAsync(id, update.Str("operation"), timeoutSeconds: 300);
        done.Str("state").ShouldBe("succeeded", done.Text);
        var pod = await cluster.PodAsync(internalId);
        pod.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("1152Mi");
        pod.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        (await cluster.ObjectsAsync(internalId)).ShouldBe(
            [$"StatefulSet/{name}", $"Pod/{name}-0", $"Service/{name}", $"ConfigMap/{name}", $"PersistentVolumeClaim/data-{name}-0"],
            ignoreOrder: true);
        (await Pg.ScalarAsync(credentials, "SELECT body FROM kept")).ShouldBe("written before the plan change", "the same volume, through the same binding");
        (await Pg.ScalarAsync(credentials, "SHOW shared_buffers")).ShouldBe("256MB");
        (await cluster.IncidentsAsync(id)).ShouldBeEmpty("the supervisor leaves an instance alone while an operation holds it");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
    }

    [Fact]
    public async Task A_broker_killed_while_a_restore_streams_into_the_pod_finishes_it_at_its_next_start_with_the_backups_data()
    {
        var id = "crashrs-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

        // Enough data that the restore's stream into the pod takes a while.
        await Pg.ExecuteAsync(credentials, "CREATE TABLE big AS SELECT g AS n, repeat(md5(g::text), 4) AS body FROM generate_series(1, 200000) g");
        var backedUp = await Pg.ScalarAsync(credentials, "SELECT count(*) || ':' || sum(n) || ':' || md5(string_agg(body, '' ORDER BY n)) FROM big");
        var backup = await Osb.BackupAsync(id);
        await Pg.ExecuteAsync(credentials, "DELETE FROM big WHERE n % 3 = 0");

        // Killed as soon as the restore has begun unpacking into the volume.
        var started = await Osb.PostAsync($"/instances/{id}/restore", new { backup_id = backup.GetProperty("id").GetString() });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.Text);
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.InstanceFilesAsync(internalId)).Contains("restore-staging") ? "yes" : null,
            "the restore's staging directory in the pod",
            TimeSpan.FromSeconds(60));
        await cluster.Server.KillAsync();
        await cluster.Server.StartProcessAsync();

        var done = await Osb.WaitAsync(id, started.Str("operation"), timeoutSeconds: 300);
        done.Str("state").ShouldBe("succeeded", done.Text);
        (await Pg.ScalarAsync(credentials, "SELECT count(*) || ':' || sum(n) || ':' || md5(string_agg(body, '' ORDER BY n)) FROM big")).ShouldBe(backedUp, "the resumed restore put the backup's data in place, through the same binding");
        var files = await cluster.InstanceFilesAsync(internalId);
        files.ShouldNotContain("restore-staging");
        files.ShouldNotContain("data.pre-restore");
        (await cluster.PodProcessesAsync(internalId)).ShouldNotContain("tar", "the killed broker's stream into the pod was cut, so its tar ended");

        await Osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task A_broker_killed_mid_rebuild_finishes_it_at_its_next_start_behind_the_same_Service_with_one_claim()
    {
        var id = "crashrb-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var name = "stw-" + internalId;
        await Pg.ExecuteAsync(credentials, "CREATE TABLE notes AS SELECT g AS n FROM generate_series(1, 1000) g");
        await Osb.BackupAsync(id);
        await Pg.ExecuteAsync(credentials, "DELETE FROM notes WHERE n > 10");
        var address = (await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace)).Spec.ClusterIP;

        // Killed as soon as the rebuild has preserved the instance's claim: it is making the new place, or restoring into it.
        var started = await Osb.PostAsync($"/instances/{id}/rebuild");
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.Text);
        await ClusterFixture.WaitForAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(cluster.Namespace, labelSelector: $"steward.io/preserved-from={internalId}")).Items.Count > 0 ? "preserved" : null,
            "the instance's claim preserved by the rebuild",
            TimeSpan.FromSeconds(60));
        await cluster.Server.KillAsync();
        await cluster.Server.StartProcessAsync();

        var done = await Osb.WaitAsync(id, started.Str("operation"), timeoutSeconds: 300);
        done.Str("state").ShouldBe("succeeded", done.Text);
        (await Pg.ScalarAsync(credentials, "SELECT count(*) FROM notes")).ShouldBe(1000L, "the backup's rows, through the same binding at the same address");
        (await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace)).Spec.ClusterIP.ShouldBe(address);
        (await cluster.ObjectsAsync(internalId)).Count(o => o.StartsWith("PersistentVolumeClaim/", StringComparison.Ordinal)).ShouldBe(1);
        (await cluster.Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(cluster.Namespace, labelSelector: $"steward.io/preserved-from={internalId}")).Items.Count.ShouldBe(1, "the claim it had is preserved once, not twice");

        await Osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
    }
}
