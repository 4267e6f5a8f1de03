using System.Runtime.InteropServices;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>X25519 (RFC 7748) through the system libsodium (Debian package libsodium23); .NET has no X25519.</summary>
internal static partial class X25519
{
    public const int KeySize = 32;
    private const string Library = "libsodium.so.23";
    private static readonly Lazy<int> Initialized = new(SodiumInit);

    /// <summary>Computes <paramref name="scalar"/> · <paramref name="point"/>; throws for a low-order point (an
    /// all-zero shared secret), as age requires.</summary>
    public static byte[] SharedSecret(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> point)
    {
        EnsureInitialized();
        var result = new byte[KeySize];
        if (ScalarMult(result, scalar, point) != 0)
        {
            throw new BackupException("age_invalid_recipient", "age: X25519 produced an all-zero shared secret (invalid share).");
        }

        return result;
    }

    /// <summary>The public key of <paramref name="scalar"/>.</summary>
    public static byte[] PublicKey(ReadOnlySpan<byte> scalar)
    {
        EnsureInitialized();
        var result = new byte[KeySize];
        if (ScalarMultBase(result, scalar) != 0)
        {
            throw new BackupException("age_failed", "age: X25519 base point multiplication failed.");
        }

        return result;
    }

    private static void EnsureInitialized()
    {
        if (Initialized.Value < 0)
        {
            throw new BackupException("age_failed", "age: libsodium could not be initialised.");
        }
    }

    private static int SodiumInit() => Init();

    [LibraryImport(Library, EntryPoint = "sodium_init")]
    private static partial int Init();

    [LibraryImport(Library, EntryPoint = "crypto_scalarmult_curve25519")]
    private static partial int ScalarMult(Span<byte> result, ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> point);

    [LibraryImport(Library, EntryPoint = "crypto_scalarmult_curve25519_base")]
    private static partial int ScalarMultBase(Span<byte> result, ReadOnlySpan<byte> scalar);
}
