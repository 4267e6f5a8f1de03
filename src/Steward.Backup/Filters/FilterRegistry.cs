using Steward.Backup.Filters.Age;
using Steward.Backup.Filters.Gzip;
using Steward.Backup.Filters.Zstd;
using Steward.Backup.Manifest;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters;

/// <summary>
/// Maps filter names recorded in manifests to factories, so a restore rebuilds the chain the backup was made with.
/// </summary>
public sealed class FilterRegistry
{
    private readonly Dictionary<string, Func<FilterSpec, RestoreKeyring, IBackupFilter>> _factories = new(StringComparer.Ordinal);

    /// <summary>A registry that knows <c>zstd</c>, <c>gzip</c> and <c>age</c>.</summary>
    public static FilterRegistry CreateDefault() => new FilterRegistry()
        .Register(ZstdFilter.FilterName, (spec, _) => ZstdFilter.FromParameters(spec.Parameters))
        .Register(GzipFilter.FilterName, (spec, _) => GzipFilter.FromParameters(spec.Parameters))
        .Register(AgeFilter.FilterName, (spec, keyring) => AgeFilter.FromParameters(spec.Parameters, keyring.AgeIdentities));

    /// <summary>Registers (or replaces) the factory of <paramref name="name"/>.</summary>
    public FilterRegistry Register(string name, Func<FilterSpec, RestoreKeyring, IBackupFilter> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[name] = factory;
        return this;
    }

    /// <summary>The registered filter names.</summary>
    public IReadOnlyCollection<string> Names => _factories.Keys;

    /// <summary>Creates the filter recorded as <paramref name="spec"/>.</summary>
    /// <exception cref="BackupException">The filter is unknown or its parameters are invalid.</exception>
    public IBackupFilter Create(FilterSpec spec, RestoreKeyring keyring)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!_factories.TryGetValue(spec.Name, out var factory))
        {
            throw new BackupException("filter_unknown", $"The manifest uses filter '{spec.Name}', which is not registered.");
        }

        return factory(spec, keyring);
    }
}
