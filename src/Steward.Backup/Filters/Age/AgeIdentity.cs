using System.Security.Cryptography;

namespace Steward.Backup.Filters.Age;

/// <summary>
/// An age X25519 identity (secret key), written <c>AGE-SECRET-KEY-1...</c>. Its <see cref="ToString"/> shows only the
/// public recipient, so an identity that ends up in a log or exception leaks nothing.
/// </summary>
public sealed class AgeIdentity
{
    private const string Hrp = "age-secret-key-";
    private readonly byte[] _secretKey;

    private AgeIdentity(byte[] secretKey)
    {
        _secretKey = secretKey;
        Recipient = new AgeRecipient(X25519.PublicKey(secretKey));
    }

    /// <summary>The matching public recipient.</summary>
    public AgeRecipient Recipient { get; }

    internal ReadOnlySpan<byte> SecretKey => _secretKey;

    /// <summary>Generates a new random identity.</summary>
    public static AgeIdentity Generate() => new(RandomNumberGenerator.GetBytes(X25519.KeySize));

    /// <summary>Parses one <c>AGE-SECRET-KEY-1...</c> line.</summary>
    /// <exception cref="FormatException">The text is not an age X25519 identity (the text itself is not echoed).</exception>
    public static AgeIdentity Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Bech32.TryDecode(text.Trim(), out var hrp, out var key) || hrp != Hrp || key.Length != X25519.KeySize)
        {
            throw new FormatException("The text is not an age X25519 identity (AGE-SECRET-KEY-1...).");
        }

        return new AgeIdentity(key);
    }

    /// <summary>Parses an identity file as written by <c>age-keygen</c>: one key per line, <c>#</c> comments.</summary>
    public static IReadOnlyList<AgeIdentity> ParseFile(string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var identities = contents.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(Parse)
            .ToList();
        return identities.Count > 0 ? identities : throw new FormatException("The identity file contains no age identity.");
    }

    /// <summary>The secret <c>AGE-SECRET-KEY-1...</c> encoding, for writing a key file. Handle with care.</summary>
    public string ExportSecretKey() => Bech32.Encode(Hrp, _secretKey).ToUpperInvariant();

    /// <summary>The public recipient; never the secret.</summary>
    public override string ToString() => $"AgeIdentity({Recipient})";
}
