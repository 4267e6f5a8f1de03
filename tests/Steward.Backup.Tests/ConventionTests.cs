using System.Reflection;
using Steward.Backup.Pipeline;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests;

public sealed class ConventionTests
{
    private static readonly string SourceRoot = Path.Combine(RepositoryRoot.Path, "src");

    [Fact]
    public void No_product_code_reads_the_wall_clock_directly()
    {
        // Logic takes time from an injected TimeProvider; elapsed times come from Stopwatch.
        var offenders = Directory.EnumerateFiles(SourceRoot, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains("/obj/", StringComparison.Ordinal) && !file.Contains("/bin/", StringComparison.Ordinal))
            .Where(file => File.ReadAllText(file) is var text &&
                           (text.Contains("DateTime.Now", StringComparison.Ordinal) ||
                            text.Contains("DateTime.UtcNow", StringComparison.Ordinal) ||
                            text.Contains("DateTimeOffset.Now", StringComparison.Ordinal) ||
                            text.Contains("DateTimeOffset.UtcNow", StringComparison.Ordinal)));

        offenders.ShouldBeEmpty();
    }

    [Fact]
    public void Every_plugin_implementation_has_a_builder_registration()
    {
        var assembly = typeof(BackupPipeline).Assembly;
        var plugins = assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace != typeof(BackupPipeline).Namespace)
            .Where(t => typeof(IBackupSource).IsAssignableFrom(t) || typeof(IBackupFilter).IsAssignableFrom(t) ||
                        typeof(IBackupStorage).IsAssignableFrom(t) || typeof(IRestoreSink).IsAssignableFrom(t));
        var registrations = assembly.GetTypes()
            .Where(t => t.IsSealed && t.IsAbstract && t.Name.EndsWith("Extensions", StringComparison.Ordinal))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.Name.StartsWith("Add", StringComparison.Ordinal) || m.Name.StartsWith("Use", StringComparison.Ordinal))
            .ToList();

        foreach (var plugin in plugins)
        {
            var feature = plugin.Namespace!.Split('.')[^1];
            registrations.ShouldContain(m => m.DeclaringType!.Namespace == plugin.Namespace,
                $"{plugin.Name} in feature '{feature}' has no Add*/Use* registration");
        }
    }

    [Fact]
    public void Public_classes_are_sealed_or_static()
    {
        typeof(BackupPipeline).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsSealed: false })
            .Where(t => t != typeof(BackupException))
            .ShouldBeEmpty();
    }
}
