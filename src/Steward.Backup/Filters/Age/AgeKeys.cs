using System.Security.Cryptography;
using System.Text;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>The key schedule of age v1: wrapping the file key for X25519 recipients, the header MAC key and the
/// payload key.</summary>
internal static class AgeKeys
{
    public const int FileKeySize = 16;
    public const int PayloadNonceSize = 16;
    private static readonly byte[] X25519Label = Encoding.ASCII.GetBytes("age-encryption.org/v1/X25519");
    private static readonly byte[] HeaderLabel = Encoding.ASCII.GetBytes("header");
    private static readonly byte[] PayloadLabel = Encoding.ASCII.GetBytes("payload");

    public static AgeStanza Wrap(ReadOnlySpan<byte> fileKey, AgeRecipient recipient)
    {
        var ephemeral = RandomNumberGenerator.GetBytes(X25519.KeySize);
        var share = X25519.PublicKey(ephemeral);
        var shared = X25519.SharedSecret(ephemeral, recipient.PublicKey);
        var wrappingKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, [.. share, .. recipient.PublicKey], X25519Label);
        var body = new byte[FileKeySize + 16];
        using (var aead = new ChaCha20Poly1305(wrappingKey))
        {
            aead.Encrypt(new byte[12], fileKey, body.AsSpan(0, FileKeySize), body.AsSpan(FileKeySize));
        }

        CryptographicOperations.ZeroMemory(ephemeral);
        CryptographicOperations.ZeroMemory(wrappingKey);
        return new AgeStanza("X25519", [AgeBase64.Encode(share)], body);
    }

    /// <summary>Returns the file key if <paramref name="identity"/> is the recipient of <paramref name="stanza"/>.</summary>
    public static byte[]? TryUnwrap(AgeStanza stanza, AgeIdentity identity)
    {
        if (stanza.Type != "X25519")
        {
            return null;
        }

        var share = stanza.Arguments.Count == 1 ? AgeBase64.TryDecode(stanza.Arguments[0]) : null;
        if (share is not { Length: X25519.KeySize } || stanza.Body.Length != FileKeySize + 16)
        {
            throw new BackupIntegrityException("age: the header has a malformed X25519 recipient stanza.");
        }

        var shared = X25519.SharedSecret(identity.SecretKey, share);
        var wrappingKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32,
            [.. share, .. identity.Recipient.PublicKey], X25519Label);
        var fileKey = new byte[FileKeySize];
        try
        {
            using var aead = new ChaCha20Poly1305(wrappingKey);
            aead.Decrypt(new byte[12], stanza.Body.AsSpan(0, FileKeySize), stanza.Body.AsSpan(FileKeySize), fileKey);
            return fileKey;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wrappingKey);
        }
    }

    public static byte[] HeaderMac(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> headerUpToDashes)
    {
        Span<byte> macKey = stackalloc byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey, macKey, [], HeaderLabel);
        var mac = HMACSHA256.HashData(macKey, headerUpToDashes);
        CryptographicOperations.ZeroMemory(macKey);
        return mac;
    }

    public static byte[] PayloadKey(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> nonce)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey, key, nonce, PayloadLabel);
        return key;
    }
}
