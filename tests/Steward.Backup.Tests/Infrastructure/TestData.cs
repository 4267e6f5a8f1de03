using System.Security.Cryptography;

namespace Steward.Backup.Tests.Infrastructure;

internal static class TestData
{
    public static byte[] Random(int size, int seed = 42)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Half random, half repetitive, so compressors have something to do.</summary>
    public static byte[] Mixed(int size, int seed = 7)
    {
        var data = Random(size, seed);
        for (var i = 0; i < size; i += 8192)
        {
            data.AsSpan(i, Math.Min(4096, size - i)).Fill((byte)(i / 8192));
        }

        return data;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>The BLAKE3 digest of <paramref name="data"/> in one call, as Steward's manifests write it.</summary>
    public static string Blake3(byte[] data)
    {
        var hash = new byte[32];
        global::Blake3.Hasher.Hash(data, hash);
        return "blake3:" + Convert.ToHexStringLower(hash);
    }
}
