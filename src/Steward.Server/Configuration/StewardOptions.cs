using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Server.Configuration;

/// <summary>
/// The broker's own settings. Every one has an embedded default, so <c>steward-server</c> starts with no
/// configuration at all; each is set by its STEWARD_* environment variable, its command-line switch, or its
/// key in a <c>--config</c> JSON file (see docs/configuration.md, checked against this type by a test).
/// </summary>
[SettingsSection("")]
public sealed partial record StewardOptions : IValidatableObject
{
    [Setting("STEWARD_CONFIG", "a JSON file of settings (keys as in this table); environment variables and the command line override it", Allowed = "a file path")]
    public string? ConfigFile { get; init; }

    [Setting("STEWARD_DATA_DIR", "state database, broker credentials, backup key and instance data", Default = "`/var/lib/steward` as root, `~/.local/share/steward` otherwise", Allowed = "a directory path")]
    public string DataDir
    {
        get;
        init => field = string.IsNullOrWhiteSpace(value) ? value : Path.GetFullPath(value);
    } = Environment.IsPrivilegedProcess ? "/var/lib/steward" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "steward");

    [Setting("STEWARD_LISTEN", "the broker's URL (OSB and Steward's API); keep it on loopback or behind a TLS proxy", Allowed = "an http:// URL with a host and port")]
    public string Listen { get; init; } = "http://127.0.0.1:8090";

    [Setting("STEWARD_PORT_RANGE", "loopback ports handed to instances", Allowed = "MIN-MAX with 1024 ≤ MIN ≤ MAX ≤ 65535")]
    public string PortRange { get; init; } = "20000-29999";

    [Setting("STEWARD_SERVICE_USER", "the system user instances run as when Steward runs as root (created if missing)", Allowed = "a system user name: lower-case letters, digits, _ and -, starting with a letter or _, at most 32")]
    [RegularExpression("^[a-z_][a-z0-9_-]{0,31}$")]
    public string ServiceUser { get; init; } = "steward";

    [Setting("STEWARD_BROKER_USERNAME", "the platform's basic-auth user name; with STEWARD_BROKER_PASSWORD, replaces the generated broker-credentials file", Default = "`broker` (generated file)", Allowed = "text without ':' (set together with the password)")]
    public string? BrokerUsername { get; init; }

    [Setting("STEWARD_BROKER_PASSWORD", "the platform's basic-auth password", Default = "generated into `<data>/broker-credentials`", Allowed = "text (set together with the user name)", Secret = true)]
    public string? BrokerPassword { get; init; }

    [Setting("STEWARD_SERVER_START_TIMEOUT_MS", "how long a new or restored instance's server may take to answer its first health probe")]
    [Range(1000, 3_600_000)]
    public int ServerStartTimeoutMs { get; init; } = 90_000;

    [Setting("STEWARD_STOP_GRACE_MS", "how long a server may take to stop cleanly before it is killed")]
    [Range(0, 3_600_000)]
    public int StopGraceMs { get; init; } = 30_000;

    [Setting("STEWARD_SUPERVISOR_TICK_MS", "how often the supervisor looks for instances due a check")]
    [Range(10, 60_000)]
    public int SupervisorTickMs { get; init; } = 200;

    [Setting("STEWARD_MAX_BODY_BYTES", "the largest request body the broker reads")]
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    /// <summary>Operator overrides of the plans' health and restart policies: the Supervision section, bound as its own options and set here by the host.</summary>
    public SupervisionOverrides Supervision { get; init; } = new();

    public (int Min, int Max) InstancePorts => TryParseRange(PortRange) ?? throw new InvalidOperationException($"STEWARD_PORT_RANGE '{PortRange}' was not validated");

    public TimeSpan StartupTimeout => TimeSpan.FromMilliseconds(ServerStartTimeoutMs);

    public TimeSpan StopGrace => TimeSpan.FromMilliseconds(StopGraceMs);

    public TimeSpan SupervisorTick => TimeSpan.FromMilliseconds(SupervisorTickMs);

    public string StateFile => Path.Combine(DataDir, "steward.db");

    public string CredentialsFile => Path.Combine(DataDir, "broker-credentials");

    public string InstancesDir => Path.Combine(DataDir, "instances");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            yield return new ValidationResult("empty", [nameof(DataDir)]);
        }

        if (ListenPattern().Match(Listen) is not { Success: true } listen || int.Parse(listen.Groups[1].ValueSpan, CultureInfo.InvariantCulture) > 65535)
        {
            yield return new ValidationResult("not allowed", [nameof(Listen)]);
        }

        if (TryParseRange(PortRange) is null)
        {
            yield return new ValidationResult("not allowed", [nameof(PortRange)]);
        }

        if (string.IsNullOrEmpty(BrokerUsername) != string.IsNullOrEmpty(BrokerPassword))
        {
            yield return new ValidationResult("the user name and the password are set together or not at all", [string.IsNullOrEmpty(BrokerUsername) ? nameof(BrokerUsername) : nameof(BrokerPassword)]);
        }
        else if (BrokerUsername?.Contains(':', StringComparison.Ordinal) == true)
        {
            yield return new ValidationResult("contains ':', which basic authentication cannot carry", [nameof(BrokerUsername)]);
        }
    }

    /// <summary>Settings minus the secret.</summary>
    public override string ToString() =>
        $"StewardOptions {{ DataDir = {DataDir}, Listen = {Listen}, PortRange = {PortRange}, ServiceUser = {ServiceUser}, BrokerUsername = {BrokerUsername} }}";

    private static (int, int)? TryParseRange(string range)
    {
        var match = RangePattern().Match(range);
        return match.Success
            && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            && int.TryParse(match.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            && min >= 1024 && max <= 65535 && min <= max
                ? (min, max)
                : null;
    }

    [GeneratedRegex(@"^http://(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.*+-]+):(\d{1,5})/?$")]
    private static partial Regex ListenPattern();

    [GeneratedRegex(@"^(\d{1,5})-(\d{1,5})$")]
    private static partial Regex RangePattern();
}
