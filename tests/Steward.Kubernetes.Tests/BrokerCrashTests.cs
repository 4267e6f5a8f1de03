using System.Net;
using k8s;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>kill -9 of the broker while it creates an instance's objects on the cluster.</summary>
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

        await Osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var gone = await Osb.WaitAsync(id, timeoutSeconds: 180);
        gone.Status.ShouldBe(HttpStatusCode.Gone, gone.Text);
        (await cluster.ObjectsAsync(internalId)).ShouldBeEmpty();
    }
}
