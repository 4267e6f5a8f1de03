using System.Diagnostics;

namespace Steward.Runtime;

/// <summary>
/// The environment of every process Steward starts: servers, their tools, backup and restore commands, useradd.
/// Nothing of the broker's own environment is inherited (its credentials, the S3 secret key, any STEWARD_*
/// setting), only a fixed base, the few allow-listed variables below, and what the caller names explicitly.
/// </summary>
public static class ChildEnvironment
{
    /// <summary>The search path every child gets.</summary>
    public const string Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Variables taken from the broker's environment when set there: they carry no secret and change
    /// how tools behave in ways the operator chose (time zone, temporary directory).</summary>
    public static readonly IReadOnlyList<string> Inherited = ["TZ", "TMPDIR"];

    /// <summary>Replaces <paramref name="info"/>'s environment with the base plus <paramref name="variables"/>
    /// (a <c>null</c> value leaves that variable out).</summary>
    public static ProcessStartInfo Apply<TValue>(ProcessStartInfo info, IEnumerable<KeyValuePair<string, TValue>>? variables)
        where TValue : class?
    {
        ArgumentNullException.ThrowIfNull(info);
        var environment = info.Environment;
        environment.Clear();
        environment["PATH"] = Path;
        environment["LANG"] = "C.UTF-8";
        foreach (var name in Inherited)
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                environment[name] = value;
            }
        }

        foreach (var (name, value) in variables ?? [])
        {
            if (value is string text)
            {
                environment[name] = text;
            }
            else
            {
                environment.Remove(name);
            }
        }

        return info;
    }
}
