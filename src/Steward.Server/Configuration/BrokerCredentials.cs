using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Steward.Security;

namespace Steward.Server.Configuration;

/// <summary>
/// The platform's basic-auth credentials for the broker. Taken from STEWARD_BROKER_USERNAME and
/// STEWARD_BROKER_PASSWORD when set; otherwise generated on first start and kept in a file readable by
/// the owner only, where the CLI finds them.
/// </summary>
public sealed class BrokerCredentials
{
    private readonly byte[] _username;
    private readonly byte[] _password;

    private BrokerCredentials(string username, string password)
    {
        Username = username;
        _username = Encoding.UTF8.GetBytes(username);
        _password = Encoding.UTF8.GetBytes(password);
    }

    public string Username { get; }

    /// <summary>Loads or creates the credentials.</summary>
    public static BrokerCredentials Load(StewardOptions options)
    {
        if (options is { BrokerUsername: { Length: > 0 } user, BrokerPassword: { Length: > 0 } password })
        {
            return new BrokerCredentials(user, password);
        }

        var created = new BrokerCredentials("broker", Secrets.Password());
        var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["username"] = created.Username, ["password"] = Encoding.UTF8.GetString(created._password) });

        // Created 0600 from the first byte; when another broker on the same data directory was first, its file wins.
        if (SecretFile.TryCreate(options.CredentialsFile, json))
        {
            return created;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(options.CredentialsFile));
        return new BrokerCredentials(doc.RootElement.GetProperty("username").GetString()!, doc.RootElement.GetProperty("password").GetString()!);
    }

    /// <summary>Constant-time check of a basic-auth pair.</summary>
    public bool Matches(string username, string password) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(username), _username)
        & CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), _password);

    public override string ToString() => $"BrokerCredentials {{ Username = {Username} }}";
}
