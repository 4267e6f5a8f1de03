using System.Net;
using System.Text.Json;
using k8s;
using Npgsql;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// The broker's own API with STEWARD_RUNTIME=kubernetes on a real cluster: instances are StatefulSets with a volume
/// claim, a ConfigMap and a Service, used through the Service with the credentials the broker returns.
/// </summary>
[Collection("kubernetes")]
public sealed class InstanceLifecycleTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_PostgreSQL_instance_runs_in_its_own_pod_is_used_through_its_Service_survives_its_pod_and_leaves_nothing_when_deleted()
    {
        var id = "pg-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var internalId = await cluster.InternalIdAsync(id);
        var name = "stw-" + internalId;

        // Everything of the instance is found by its label: the StatefulSet, its pod, the Service, the ConfigMap, the claim.
        (await cluster.ObjectsAsync(internalId)).Order().ShouldBe(
            [$"ConfigMap/{name}", $"PersistentVolumeClaim/data-{name}-0", $"Pod/{name}-0", $"Service/{name}", $"StatefulSet/{name}"]);
        var set = await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, cluster.Namespace);
        set.Spec.Template.Spec.Containers[0].Resources.Limits["memory"].ToString().ShouldBe("384Mi", "the plan's 256 MB plus the instance manager's and tools' 128 Mi");
        var service = await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace);
        (await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(name, cluster.Namespace)).Metadata.OwnerReferences.Single().Name.ShouldBe(name);
        service.Metadata.OwnerReferences.Single().Uid.ShouldBe(set.Metadata.Uid);

        var writer = await Osb.BindReadyAsync(id, "w-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var keeper = await Osb.BindReadyAsync(id, "k-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        writer.GetProperty("host").GetString().ShouldBe(service.Spec.ClusterIP, "clients connect to the instance's Service");
        writer.GetProperty("port").GetInt32().ShouldBe(service.Spec.Ports.Single().Port);

        await Pg.ExecuteAsync(writer, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written through the Service')");

        (await ReadAsync(keeper)).ShouldBe("written through the Service");

        // Unbind: the binding's password stops working at once.
        (await Osb.UnbindAsync(id, "w-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(HttpStatusCode.OK);
        var refused = await Should.ThrowAsync<PostgresException>(() => Pg.OpenAsync(writer));
        refused.SqlState.ShouldBe(PostgresErrorCodes.InvalidPassword);

        // The pod is deleted: the StatefulSet makes a new one on the same volume, the supervisor notices the server is
        // gone, records an incident and starts the server again in the new pod (the pod itself never restarts it).
        var oldPod = await cluster.Client.CoreV1.ReadNamespacedPodAsync(name + "-0", cluster.Namespace);
        await cluster.Client.CoreV1.DeleteNamespacedPodAsync(name + "-0", cluster.Namespace);
        var incident = await cluster.WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved", "an incident about the server gone with its pod, resolved by a restart in the new pod");
        incident.GetProperty("restarts").GetInt32().ShouldBe(1);
        var newPod = await cluster.Client.CoreV1.ReadNamespacedPodAsync(name + "-0", cluster.Namespace);
        newPod.Metadata.Uid.ShouldNotBe(oldPod.Metadata.Uid);
        newPod.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0, "the instance manager, PID 1 of the pod, never exits when its server does");
        (await ClusterFixture.WaitForAsync(() => ReadAsync(keeper)!, "the row, read again through the Service", TimeSpan.FromSeconds(60))).ShouldBe("written through the Service");

        // Deprovision: nothing of the instance is left in the cluster, its volume claim included.
        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_Redis_instance_is_bound_used_through_its_Service_unbound_and_deleted_without_leftovers()
    {
        var id = "redis-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var internalId = await cluster.InternalIdAsync(id);
        var name = "stw-" + internalId;
        var service = await cluster.Client.CoreV1.ReadNamespacedServiceAsync(name, cluster.Namespace);

        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        credentials.GetProperty("host").GetString().ShouldBe(service.Spec.ClusterIP);
        (await RedisCli.RunAsync(credentials, "SET", "greeting", "hello")).ShouldBe("OK");
        (await RedisCli.RunAsync(credentials, "GET", "greeting")).ShouldBe("hello");
        (await RedisCli.RunAsync(credentials, "INFO", "memory")).ShouldContain("maxmemory:67108864");

        // Reachable from beyond the pod, yet nobody gets in without a binding's password.
        (await RedisCli.RunAsync(service.Spec.ClusterIP, credentials.GetProperty("port").GetInt32(), null, null, "GET", "greeting")).ShouldStartWith("NOAUTH");

        (await Osb.UnbindAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).Status.ShouldBe(HttpStatusCode.OK);
        (await RedisCli.RunAsync(credentials, "PING")).ShouldContain("WRONGPASS");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    private static async Task<string?> ReadAsync(JsonElement credentials) => (string?)await Pg.ScalarAsync(credentials, "SELECT body FROM notes");
}
