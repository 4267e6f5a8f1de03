using Microsoft.Extensions.Options;
using Steward.Runtime;
using Steward.Runtime.Kubernetes;
using Steward.Runtime.Local;
using Steward.Server.Configuration;

namespace Steward.Server.Runtimes;

/// <summary>Registers the runtime STEWARD_RUNTIME chooses.</summary>
internal static class RuntimeServiceCollectionExtensions
{
    public static IServiceCollection AddInstanceRuntime(this IServiceCollection services, IConfiguration settings)
    {
        services.AddSettings<RuntimeOptions>(settings);
        services.AddSingleton<IInstanceRuntime>(sp => sp.GetRequiredService<IOptions<RuntimeOptions>>().Value switch
        {
            { Kind: RuntimeOptions.Kubernetes } kubernetes => new KubernetesRuntime(kubernetes.ToKubernetes(), sp.GetRequiredService<ILogger<KubernetesRuntime>>()),
            _ => new LocalProcessRuntime(
                new LocalRuntimeOptions { InstancesRoot = sp.GetRequiredService<StewardOptions>().InstancesDir, ServiceUser = sp.GetRequiredService<StewardOptions>().ServiceUser },
                sp.GetRequiredService<ILogger<LocalProcessRuntime>>(),
                sp.GetRequiredService<TimeProvider>()),
        });
        return services;
    }
}
