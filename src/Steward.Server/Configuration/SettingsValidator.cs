using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Steward.Server.Configuration;

/// <summary>
/// Validates one options type against the raw configured values: each value must convert to the property's
/// type and pass its validation attributes, then the type's own cross-setting rules
/// (<see cref="IValidatableObject"/>) run. One line per invalid setting, naming it and its allowed values.
/// </summary>
internal sealed class SettingsValidator<T>(IConfiguration configuration) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = new List<string>();
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var settings = SettingsCatalog.For(typeof(T)).ToList();
        foreach (var setting in settings)
        {
            if (configuration[setting.Key] is { } raw && (!setting.TryConvert(raw, out var value) || !setting.Accepts(value)))
            {
                failures.Add(setting.Refusal(raw));
                refused.Add(setting.Property.Name);
            }
        }

        if (options is IValidatableObject validatable)
        {
            foreach (var result in validatable.Validate(new ValidationContext(options)))
            {
                foreach (var setting in settings.Where(s => result.MemberNames.Contains(s.Property.Name) && refused.Add(s.Property.Name)))
                {
                    failures.Add(setting.Refusal(configuration[setting.Key], result.ErrorMessage));
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
