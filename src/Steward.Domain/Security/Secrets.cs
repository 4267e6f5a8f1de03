using System.Security.Cryptography;

namespace Steward.Security;

/// <summary>Generates credentials from the operating system's CSPRNG.</summary>
public static class Secrets
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const string LowerAlphabet = "abcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>A password of <paramref name="length"/> characters, URI-safe (no characters that need escaping).</summary>
    public static string Password(int length = 32) => RandomNumberGenerator.GetString(Alphabet, length);

    /// <summary>How an API token is stored for lookup: its SHA-256, so no index holds the token itself.</summary>
    public static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    /// <summary>A lowercase identifier suffix, safe as a PostgreSQL role name or Redis ACL user name.</summary>
    public static string Token(int length = 12) => RandomNumberGenerator.GetString(LowerAlphabet, length);
}
