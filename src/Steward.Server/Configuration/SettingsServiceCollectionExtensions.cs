using Microsoft.Extensions.Options;

namespace Steward.Server.Configuration;

internal static class SettingsServiceCollectionExtensions
{
    /// <summary>
    /// Binds an options type marked with <see cref="SettingsSectionAttribute"/> from its section and
    /// validates it when the broker starts, before anything listens.
    /// </summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, IConfiguration configuration)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new SettingsValidator<T>(configuration));
        return services.AddOptions<T>()
            .Configure(options => Convertible<T>(configuration).Bind(options))
            .ValidateOnStart();
    }

    /// <summary>
    /// The type's settings whose values convert to their property types: binding them cannot throw, so the
    /// cross-setting rules see every valid value, and <see cref="SettingsValidator{T}"/> names the others.
    /// </summary>
    private static IConfiguration Convertible<T>(IConfiguration configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in SettingsCatalog.For(typeof(T)))
        {
            if (configuration[setting.Key] is { } raw && setting.TryConvert(raw, out _))
            {
                values[setting.Property.Name] = raw;
            }
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>
    /// Runs every ValidateOnStart validation now; one line per invalid setting, empty when all are valid.
    /// </summary>
    public static IReadOnlyList<string> InvalidSettings(this IServiceProvider services)
    {
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            return [.. ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)];
        }
    }
}
