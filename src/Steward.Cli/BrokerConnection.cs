using System.Text.Json;

namespace Steward.Cli;

/// <summary>
/// Where the broker is and how to authenticate: --url/--username/--password-file, then STEWARD_URL,
/// STEWARD_USERNAME, STEWARD_PASSWORD, then the credentials file the local broker writes in its data
/// directory (--data-dir or STEWARD_DATA_DIR, default /var/lib/steward as root).
/// </summary>
internal sealed record BrokerConnection(Uri Url, string Username, string Password)
{
    /// <summary>An instance API token; when set, requests carry it instead of the broker credentials.</summary>
    public string? Token { get; init; }

    public static BrokerConnection Resolve(string? url, string? username, string? password, string? dataDir, string? token = null)
    {
        token ??= Environment.GetEnvironmentVariable("STEWARD_TOKEN");
        url ??= Environment.GetEnvironmentVariable("STEWARD_URL") ?? "http://127.0.0.1:8090";
        username ??= Environment.GetEnvironmentVariable("STEWARD_USERNAME");
        password ??= Environment.GetEnvironmentVariable("STEWARD_PASSWORD");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException(ExitCodes.Usage, $"--url '{url}' is not an http(s) URL");
        }

        if (token is not null)
        {
            return new BrokerConnection(uri, string.Empty, string.Empty) { Token = token };
        }

        if (username is null || password is null)
        {
            dataDir ??= Environment.GetEnvironmentVariable("STEWARD_DATA_DIR")
                ?? (Environment.IsPrivilegedProcess ? "/var/lib/steward" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "steward"));
            var file = Path.Combine(dataDir, "broker-credentials");
            if (!File.Exists(file))
            {
                throw new CliException(ExitCodes.Unreachable, $"no broker credentials: set STEWARD_USERNAME/STEWARD_PASSWORD (or --username with --password-file), or run where {file} is readable");
            }

            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            username ??= doc.RootElement.GetProperty("username").GetString();
            password ??= doc.RootElement.GetProperty("password").GetString();
        }

        return new BrokerConnection(uri, username!, password!);
    }

    public override string ToString() => $"BrokerConnection {{ Url = {Url}, Username = {Username}, Token = {(Token is null ? "none" : "set")} }}";
}
