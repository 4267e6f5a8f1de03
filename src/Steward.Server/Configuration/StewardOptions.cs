using System.Globalization;

namespace Steward.Server.Configuration;

/// <summary>
/// The broker's settings. Every one has an embedded default, so <c>steward-server</c> starts with no
/// configuration at all; each can be set by an environment variable (named in the property's doc) or the
/// matching command-line option.
/// </summary>
public sealed record StewardOptions
{
    /// <summary>STEWARD_DATA_DIR: state database, credentials and instance data. Default /var/lib/steward as root, ~/.local/share/steward otherwise.</summary>
    public required string DataDir { get; init; }

    /// <summary>STEWARD_LISTEN: the broker's URL; loopback by default.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8090";

    /// <summary>STEWARD_PORT_RANGE (e.g. 20000-29999): loopback ports handed to instances.</summary>
    public (int Min, int Max) InstancePorts { get; init; } = (20000, 29999);

    /// <summary>STEWARD_SERVICE_USER: the system user instances run as when Steward is root.</summary>
    public string ServiceUser { get; init; } = "steward";

    /// <summary>How long a new or restarted instance may take to answer its first health probe.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How long a server may take to stop cleanly before it is killed.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the supervisor looks for instances due a check.</summary>
    public TimeSpan SupervisorTick { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Operator overrides of the plans' health and restart policies.</summary>
    public SupervisionOverrides Supervision { get; init; } = new();

    /// <summary>Largest request body the broker reads.</summary>
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    public string StateFile => Path.Combine(DataDir, "steward.db");

    public string CredentialsFile => Path.Combine(DataDir, "broker-credentials");

    public string InstancesDir => Path.Combine(DataDir, "instances");

    /// <summary>Reads the options from environment variables and <c>--name value</c> arguments (arguments win).</summary>
    public static StewardOptions FromEnvironment(string[] args)
    {
        string? Get(string env, string arg)
        {
            var i = Array.IndexOf(args, arg);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : Environment.GetEnvironmentVariable(env);
        }

        var dataDir = Get("STEWARD_DATA_DIR", "--data-dir")
            ?? (Environment.IsPrivilegedProcess ? "/var/lib/steward" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "steward"));
        var options = new StewardOptions { DataDir = Path.GetFullPath(dataDir), Supervision = SupervisionOverrides.FromEnvironment() };
        if (Get("STEWARD_LISTEN", "--listen") is { } listen)
        {
            options = options with { Listen = listen };
        }

        if (Get("STEWARD_PORT_RANGE", "--port-range") is { } range)
        {
            options = options with { InstancePorts = ParseRange(range) };
        }

        if (Get("STEWARD_SERVICE_USER", "--service-user") is { } user)
        {
            options = options with { ServiceUser = user };
        }

        return options;
    }

    private static (int, int) ParseRange(string range)
    {
        var parts = range.Split('-');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            && min >= 1024 && max <= 65535 && min <= max)
        {
            return (min, max);
        }

        throw new ArgumentException($"port range '{range}' is not MIN-MAX with 1024 <= MIN <= MAX <= 65535");
    }
}
