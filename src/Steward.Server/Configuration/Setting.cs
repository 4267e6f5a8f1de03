using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace Steward.Server.Configuration;

/// <summary>One documented setting: the options property it binds and every name it goes by.</summary>
internal sealed record Setting(Type Owner, PropertyInfo Property, SettingAttribute Attribute, string Key)
{
    private const string Prefix = "STEWARD_";

    public string EnvironmentVariable => Attribute.EnvironmentVariable;

    /// <summary>The command-line switch; none for a secret, which would show in every process listing.</summary>
    public string? Switch => Attribute.Secret ? null : "--" + EnvironmentVariable[Prefix.Length..].ToLowerInvariant().Replace('_', '-');

    public string Description => Attribute.Description;

    public bool Secret => Attribute.Secret;

    private Type ValueType => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;

    private IEnumerable<ValidationAttribute> Rules => Property.GetCustomAttributes<ValidationAttribute>();

    /// <summary>The default in words, from the attribute or the options type's initial value.</summary>
    public string Default => Attribute.Default ?? Convert.ToString(Property.GetValue(Activator.CreateInstance(Owner)), CultureInfo.InvariantCulture) switch
    {
        null or "" => "—",
        var value => value,
    };

    /// <summary>The allowed values in words, from the attribute, the validation attributes or the type.</summary>
    public string Allowed => Attribute.Allowed ?? Rules.Select(Describe).FirstOrDefault(d => d is not null) ?? Type.GetTypeCode(ValueType) switch
    {
        TypeCode.Int32 or TypeCode.Int64 => "a whole number",
        TypeCode.Boolean => "true or false",
        _ => "any text",
    };

    /// <summary>Converts a configured value the way the configuration binder does; false when it cannot.</summary>
    public bool TryConvert(string raw, out object? value)
    {
        try
        {
            value = TypeDescriptor.GetConverter(ValueType).ConvertFromInvariantString(raw);
            return value is not null || ValueType == typeof(string);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException)
        {
            value = null;
            return false;
        }
    }

    /// <summary>Whether a converted value passes the property's validation attributes.</summary>
    public bool Accepts(object? value) => Rules.All(r => r.IsValid(value));

    /// <summary>One line naming the setting by all its names, the refused value (unless secret) and what is allowed.</summary>
    public string Refusal(string? raw, string? problem = null)
    {
        var shown = raw is null ? "unset" : Secret ? "'<hidden>'" : $"'{raw}'";
        var names = Switch is null ? $"{Key} in the --config file" : $"{Switch}, or {Key} in the --config file";
        return $"{EnvironmentVariable} ({names}) = {shown}: {problem ?? "not allowed"}; allowed: {Allowed}";
    }

    private static string? Describe(ValidationAttribute rule) => rule switch
    {
        AllowedValuesAttribute a => string.Join(", ", a.Values),
        RangeAttribute { Maximum: int max } r when max == int.MaxValue => $"a whole number, {r.Minimum} or more",
        RangeAttribute r => $"a whole number from {r.Minimum} to {r.Maximum}",
        _ => null,
    };
}
