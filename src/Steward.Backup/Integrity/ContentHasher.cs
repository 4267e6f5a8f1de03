using System.Security.Cryptography;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Integrity;

/// <summary>
/// Computes a content digest that names its algorithm: <c>blake3:&lt;64 hex&gt;</c> for everything Steward writes now,
/// and reads the bare 64-hex SHA-256 digests of manifests and catalog rows written before (<see cref="ForDigest"/>).
/// BLAKE3 because it is a cryptographic hash like SHA-256 but about ten times cheaper per byte on this machine kind
/// (no SHA extensions: SHA-256 was the largest CPU cost of a backup and of a restore, more than zstd), so checking
/// every plaintext byte no longer costs more than producing it. Stored objects keep SHA-256 (stock <c>sha256sum</c>
/// checks them, and after compression they are small); plaintext digests can be checked with Debian's <c>b3sum</c>.
/// </summary>
public sealed class ContentHasher : IDisposable
{
    /// <summary>The algorithm of new digests.</summary>
    public const string Blake3 = "blake3";

    /// <summary>The algorithm of digests without a prefix (written before BLAKE3).</summary>
    public const string Sha256 = "sha256";

    /// <summary>
    /// Not a digest of its own: the plaintext is checked by the XXH64 content checksum in every zstd frame of the
    /// backup's first filter, which the decoder verifies as it decompresses (<see cref="CompressionFrames"/>).
    /// </summary>
    public const string ZstdFrames = "zstd-frames";

    /// <summary>The plaintext "digest" of a backup whose plaintext the zstd frames' own checksums cover.</summary>
    public const string CompressionFrames = ZstdFrames + ":xxh64";

    private readonly global::Blake3.Hasher? _blake3;
    private readonly IncrementalHash? _sha256;

    private ContentHasher(string algorithm)
    {
        Algorithm = algorithm;
        if (algorithm == Sha256)
        {
            _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        else
        {
            _blake3 = global::Blake3.Hasher.New();
        }
    }

    /// <summary>The algorithm this hasher computes.</summary>
    public string Algorithm { get; }

    /// <summary>A hasher for new digests (BLAKE3).</summary>
    public static ContentHasher Create() => new(Blake3);

    /// <summary>A hasher with the algorithm of <paramref name="digest"/>, to check data against it.</summary>
    public static ContentHasher ForDigest(string digest) => AlgorithmOf(digest) is var algorithm && algorithm == ZstdFrames
        ? throw new BackupIntegrityException($"'{digest}' is checked by the zstd decoder, not by hashing the data.")
        : new(algorithm);

    /// <summary>The algorithm a digest names; a bare hex digest is SHA-256.</summary>
    public static string AlgorithmOf(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return Sha256;
        }

        var algorithm = digest[..colon];
        return algorithm is Blake3 or Sha256 or ZstdFrames ? algorithm : throw new BackupIntegrityException($"Unknown digest algorithm '{algorithm}'.");
    }

    /// <summary>The new-style digest of <paramref name="data"/>.</summary>
    public static string Of(ReadOnlySpan<byte> data)
    {
        using var hasher = Create();
        hasher.Append(data);
        return hasher.Finish();
    }

    /// <summary>Whether <paramref name="data"/> has digest <paramref name="expected"/> (computed with its algorithm).</summary>
    public static bool Matches(ReadOnlySpan<byte> data, string expected)
    {
        using var hasher = ForDigest(expected);
        hasher.Append(data);
        return Same(hasher.Finish(), expected);
    }

    /// <summary>The digest of what <paramref name="stream"/> has left, with the algorithm of <paramref name="like"/>.</summary>
    public static async Task<string> OfAsync(Stream stream, string like, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var hasher = ForDigest(like);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return hasher.Finish();
    }

    /// <summary>Whether two digests are the same (a bare hex digest equals its <c>sha256:</c> form).</summary>
    public static bool Same(string a, string b) => string.Equals(Normal(a), Normal(b), StringComparison.OrdinalIgnoreCase);

    /// <summary>The first characters of a digest's value, for messages.</summary>
    public static string Short(string digest)
    {
        var value = digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
        return value.Length > 16 ? value[..16] : value;
    }

    /// <summary>Adds bytes.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_sha256 is not null)
        {
            _sha256.AppendData(data);
        }
        else
        {
            _blake3!.Update(data);
        }
    }

    /// <summary>The digest of everything appended, with its algorithm's prefix; call once.</summary>
    public string Finish()
    {
        if (_sha256 is not null)
        {
            return Sha256 + ":" + Convert.ToHexStringLower(_sha256.GetHashAndReset());
        }

        Span<byte> hash = stackalloc byte[32];
        _blake3!.Finalize(hash);
        return Blake3 + ":" + Convert.ToHexStringLower(hash);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sha256?.Dispose();
        _blake3?.Dispose();
    }

    private static string Normal(string digest) => digest.Contains(':', StringComparison.Ordinal) ? digest : Sha256 + ":" + digest;
}
