using System.Security.Cryptography;
using System.Text;

namespace Steward.Security;

/// <summary>
/// The key that keeps credentials in the state database unreadable without it: passwords are sealed with
/// AES-256-GCM (bound to the row they belong to), and binding API tokens are derived from it, so the database
/// holds only their hashes. It lives in its own 0600 file beside the database, never in it: a copy or backup
/// of the database alone reveals no credential.
/// </summary>
public sealed class CredentialKey
{
    /// <summary>The key file's name in the data directory.</summary>
    public const string FileName = "credentials.key";

    private const string Prefix = "enc1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _sealKey;
    private readonly byte[] _tokenKey;

    private CredentialKey(byte[] master)
    {
        _sealKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "steward credentials seal v1"u8.ToArray());
        _tokenKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "steward api token v1"u8.ToArray());
    }

    /// <summary>Reads the key file, creating it (0600, 256 random bits) when it does not exist.</summary>
    public static CredentialKey LoadOrCreate(string file)
    {
        var fresh = RandomNumberGenerator.GetBytes(32);
        SecretFile.TryCreate(file, $"# Steward credentials key: without it the passwords in steward.db cannot be read. Back it up apart from the database.\n{Convert.ToBase64String(fresh)}\n");
        var line = File.ReadLines(file).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
        byte[] master;
        try
        {
            master = Convert.FromBase64String(line ?? string.Empty);
        }
        catch (FormatException)
        {
            master = [];
        }

        return master.Length == 32
            ? new CredentialKey(master)
            : throw new InvalidOperationException($"{file} does not hold a credentials key (one line of 32 bytes in base64)");
    }

    /// <summary>True for a value <see cref="Seal"/> produced (anything else is a value from before encryption).</summary>
    public static bool IsSealed(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Encrypts <paramref name="plaintext"/>; <paramref name="context"/> (which row and column) is authenticated, so a
    /// sealed value copied into another row does not open.</summary>
    public string Seal(string plaintext, string context)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + data.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_sealKey, TagSize);
        aes.Encrypt(nonce, data, sealedBytes.AsSpan(NonceSize, data.Length), sealedBytes.AsSpan(NonceSize + data.Length), Encoding.UTF8.GetBytes(context));
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>Decrypts a value <see cref="Seal"/> produced for the same <paramref name="context"/>.</summary>
    public string Open(string value, string context)
    {
        if (!IsSealed(value))
        {
            throw new CryptographicException($"{context} is not sealed");
        }

        var sealedBytes = Convert.FromBase64String(value[Prefix.Length..]);
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new CryptographicException($"{context} is truncated");
        }

        var length = sealedBytes.Length - NonceSize - TagSize;
        var data = new byte[length];
        using var aes = new AesGcm(_sealKey, TagSize);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, length), sealedBytes.AsSpan(NonceSize + length), data, Encoding.UTF8.GetBytes(context));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new CryptographicException($"{context} does not open with this credentials key ({FileName} is not the one the database was written with)", ex);
        }

        return Encoding.UTF8.GetString(data);
    }

    /// <summary>The API token of a binding: derived from the key and the binding's identity (its random user name
    /// included), so the broker can hand it out again while the database keeps only its hash.</summary>
    public string ApiToken(string instanceId, string bindingId, string username)
    {
        var mac = HMACSHA256.HashData(_tokenKey, Encoding.UTF8.GetBytes($"{instanceId}\0{bindingId}\0{username}"));
        return "stw_" + Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Not printed: the object holds a key.</summary>
    public override string ToString() => "CredentialKey";
}
