using k8s.Models;
using Steward.Runtime.Kubernetes;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// When the OOM killer ends a pod's container (its instance manager, and with it the server) rather than the server
/// alone — what cgroup v2 clusters whose kubelet sets memory.oom.group (Kubernetes 1.28+) always do — the pod's container
/// status is the evidence. The test cluster (cgroup v1, Kubernetes 1.20) cannot make the instance manager the OOM
/// killer's victim while a server runs (every process of the container has the same oom_score_adj, and the container may
/// not exempt the server), so these read pod statuses as the kubelet reports them.
/// </summary>
public sealed class ContainerOomKillTests
{
    [Fact]
    public void A_container_ended_by_the_OOM_killer_is_an_OOM_kill_of_its_server_while_down_and_once_restarted()
    {
        KubernetesRuntime.ContainerOomKilled(Pod(state: Ended("OOMKilled", 137), last: null)).ShouldBeTrue("the container is down, not restarted yet");
        KubernetesRuntime.ContainerOomKilled(Pod(state: Waiting(), last: Ended("OOMKilled", 137))).ShouldBeTrue("waiting for its restart");
        KubernetesRuntime.ContainerOomKilled(Pod(state: Running(), last: Ended("OOMKilled", 137))).ShouldBeTrue("restarted: its new instance manager recorded the server's status unknown");
    }

    [Fact]
    public void A_container_that_ended_otherwise_or_whose_pod_is_being_deleted_is_not_an_OOM_kill()
    {
        KubernetesRuntime.ContainerOomKilled(Pod(state: Running(), last: null)).ShouldBeFalse("a pod replaced (deleted, evicted): no last state");
        KubernetesRuntime.ContainerOomKilled(Pod(state: Ended("Error", 137), last: null)).ShouldBeFalse("PID 1 killed by someone, not the OOM killer");

        // containerd calls every end of a container that ever saw an OOM kill OOMKilled: the instance manager that
        // stopped its server on SIGTERM and exited 0 after the server's own OOM kill was not ended by the OOM killer.
        KubernetesRuntime.ContainerOomKilled(Pod(state: Ended("OOMKilled", 0), last: null)).ShouldBeFalse();
        KubernetesRuntime.ContainerOomKilled(Pod(state: Running(), last: Ended("OOMKilled", 137), deleting: true)).ShouldBeFalse("the pod is being deleted: its container ends because it is asked to");
    }

    private static V1Pod Pod(V1ContainerState state, V1ContainerState? last, bool deleting = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "stw-x-0", DeletionTimestamp = deleting ? DateTime.UnixEpoch : null },
        Status = new V1PodStatus { ContainerStatuses = [new V1ContainerStatus { Name = "server", State = state, LastState = last ?? new V1ContainerState(), RestartCount = last is null ? 0 : 1 }] },
    };

    private static V1ContainerState Ended(string reason, int code) => new() { Terminated = new V1ContainerStateTerminated { Reason = reason, ExitCode = code } };

    private static V1ContainerState Waiting() => new() { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff" } };

    private static V1ContainerState Running() => new() { Running = new V1ContainerStateRunning() };
}
