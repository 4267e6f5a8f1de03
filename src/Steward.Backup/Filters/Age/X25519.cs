using System.Security.Cryptography;
using NSec.Cryptography;
using Steward.Backup.Pipeline;
using NSecPublicKey = NSec.Cryptography.PublicKey;

namespace Steward.Backup.Filters.Age;

/// <summary>X25519 (RFC 7748) through NSec (libsodium, shipped in its package); .NET has no X25519 of its own.</summary>
internal static class X25519
{
    public const int KeySize = 32;
    private static readonly KeyAgreementAlgorithm Algorithm = KeyAgreementAlgorithm.X25519;

    /// <summary>Computes <paramref name="scalar"/> · <paramref name="point"/>; throws for a low-order point (an
    /// all-zero shared secret), as age requires.</summary>
    public static byte[] SharedSecret(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> point)
    {
        using var key = Import(scalar);
        if (!NSecPublicKey.TryImport(Algorithm, point, KeyBlobFormat.RawPublicKey, out var publicKey) || publicKey is null)
        {
            throw new BackupException("age_invalid_recipient", "age: the X25519 share is not a valid public key.");
        }

        NSec.Cryptography.SharedSecret? agreed;
        try
        {
            agreed = Algorithm.Agree(key, publicKey, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        }
        catch (CryptographicException)
        {
            agreed = null;
        }

        using (agreed)
        {
            return agreed?.Export(SharedSecretBlobFormat.RawSharedSecret)
                ?? throw new BackupException("age_invalid_recipient", "age: X25519 produced an all-zero shared secret (invalid share).");
        }
    }

    /// <summary>The public key of <paramref name="scalar"/>.</summary>
    public static byte[] PublicKey(ReadOnlySpan<byte> scalar)
    {
        using var key = Import(scalar);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    private static Key Import(ReadOnlySpan<byte> scalar) =>
        Key.Import(Algorithm, scalar, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
}
