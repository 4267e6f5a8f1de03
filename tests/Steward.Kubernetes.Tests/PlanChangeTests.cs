using System.Net;
using k8s;
using k8s.Models;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>An OSB update to another plan on Kubernetes: the pod gets the new plan's memory, the data and credentials stay.</summary>
[Collection("kubernetes")]
public sealed class PlanChangeTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_plan_change_replaces_the_pod_with_the_new_plans_memory_keeping_data_and_credentials()
    {
        var id = "plan-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var name = "stw-" + internalId;
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('written on the small plan')");
        var before = await cluster.PodAsync(internalId);
        before.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("384Mi");

        var update = await Osb.UpdateAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        update.Status.ShouldBe(HttpStatusCode.Accepted, update.Text);
        var done = await Osb.WaitAsync(id, update.Str("operation"), timeoutSeconds: 300);
        done.Str("state").ShouldBe("succeeded", done.ToString());

        // The StatefulSet asks for the large plan's 1 GB plus the overhead; its controller replaced the pod to get it.
        var set = await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, cluster.Namespace);
        set.Spec.Template.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("1152Mi");
        set.Spec.Template.Spec.Containers.Single().Resources.Requests["memory"].ToString().ShouldBe("1152Mi");
        var after = await cluster.PodAsync(internalId);
        after.Metadata.Uid.ShouldNotBe(before.Metadata.Uid, "a pod's resources change only with a new pod");
        after.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("1152Mi");
        after.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        (await cluster.ObjectsAsync(internalId)).ShouldContain($"PersistentVolumeClaim/data-{name}-0");

        // The server was started again in the new pod by the broker, on the same volume, with the large plan's
        // configuration; the same binding reads the row and writes.
        (await Pg.ScalarAsync(credentials, "SELECT body FROM kept")).ShouldBe("written on the small plan");
        (await Pg.ScalarAsync(credentials, "SHOW shared_buffers")).ShouldBe("256MB");
        await Pg.ExecuteAsync(credentials, "INSERT INTO kept VALUES ('written on the large plan')");
        (await Pg.ScalarAsync(credentials, "SELECT count(*) FROM kept")).ShouldBe(2L);
        (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("plan_id").GetString().ShouldBe(Catalogs.PostgreSqlLarge);
        (await cluster.IncidentsAsync(id)).ShouldBeEmpty("a plan change is not a failure");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
    }

    [Fact]
    public async Task A_Redis_plan_change_gives_the_new_pod_the_plans_memory_and_keeps_the_keys_and_the_bindings_user()
    {
        var id = "redisplan-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        (await RedisCli.RunAsync(credentials, "SET", "greeting", "kept across pods")).ShouldBe("OK");
        var before = await cluster.PodAsync(internalId);
        before.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("192Mi");

        var update = await Osb.UpdateAsync(id, Catalogs.Redis, Catalogs.RedisLarge);
        update.Status.ShouldBe(HttpStatusCode.Accepted, update.Text);
        var done = await Osb.WaitAsync(id, update.Str("operation"), timeoutSeconds: 300);
        done.Str("state").ShouldBe("succeeded", done.ToString());

        // A new pod with the large plan's 512 MB plus the overhead; the server stopped with a save, so the keys and the
        // ACL file (the binding's user) were on the volume the new pod mounts.
        var after = await cluster.PodAsync(internalId);
        after.Metadata.Uid.ShouldNotBe(before.Metadata.Uid);
        after.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("640Mi");
        after.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        (await RedisCli.RunAsync(credentials, "INFO", "memory")).ShouldContain("maxmemory:536870912");
        (await RedisCli.RunAsync(credentials, "GET", "greeting")).ShouldBe("kept across pods");

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.Redis, Catalogs.RedisLarge);
    }

    [Fact]
    public async Task A_plan_change_whose_pod_the_cluster_refuses_fails_with_the_clusters_reason_and_keeps_the_instance_on_its_plan()
    {
        var id = "refused-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var name = "stw-" + internalId;
        await Pg.ExecuteAsync(credentials, "CREATE TABLE kept (body text); INSERT INTO kept VALUES ('written before the refused change')");

        // A quota on the namespace's memory admits the small plan's pod (384 Mi), not the large plan's (1152 Mi).
        var quota = new V1ResourceQuota
        {
            Metadata = new V1ObjectMeta { Name = "memory-" + internalId },
            Spec = new V1ResourceQuotaSpec { Hard = new Dictionary<string, ResourceQuantity> { ["requests.memory"] = new("1Gi") } },
        };
        await cluster.Client.CoreV1.CreateNamespacedResourceQuotaAsync(quota, cluster.Namespace);
        try
        {
            // Until the quota controller has counted the namespace's use, the quota refuses every pod: wait for it.
            await ClusterFixture.WaitForAsync(
                async () => (await cluster.Client.CoreV1.ReadNamespacedResourceQuotaAsync(quota.Metadata.Name, cluster.Namespace)).Status?.Used?.Count > 0 ? (bool?)true : null,
                "the quota's usage counted",
                TimeSpan.FromSeconds(60));

            var update = await Osb.UpdateAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
            update.Status.ShouldBe(HttpStatusCode.Accepted, update.Text);
            var done = await Osb.WaitAsync(id, update.Str("operation"), timeoutSeconds: 150);
            done.Str("state").ShouldBe("failed", done.ToString());
            done.Str("description")!.ShouldContain("exceeded quota");
            done.Str("description")!.ShouldContain("the previous plan and parameters were restored");
            done.Body.GetProperty("instance_usable").GetBoolean().ShouldBeTrue();
        }
        finally
        {
            await cluster.Client.CoreV1.DeleteNamespacedResourceQuotaAsync(quota.Metadata.Name, cluster.Namespace);
        }

        // Back on its plan: the StatefulSet and a running pod with the small plan's memory, the row, the same binding.
        (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("plan_id").GetString().ShouldBe(Catalogs.PostgreSqlStandalone);
        var set = await cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, cluster.Namespace);
        set.Spec.Template.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("384Mi");
        var pod = await cluster.PodAsync(internalId);
        pod.Spec.Containers.Single().Resources.Limits["memory"].ToString().ShouldBe("384Mi");
        pod.Status.ContainerStatuses.Single().RestartCount.ShouldBe(0);
        (await Pg.ScalarAsync(credentials, "SELECT body FROM kept")).ShouldBe("written before the refused change");
        (await Pg.ScalarAsync(credentials, "SHOW shared_buffers")).ShouldBe("64MB");
        await cluster.WaitHealthyAsync(id);

        await cluster.DeprovisionLeavingNothingAsync(id, internalId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }
}
