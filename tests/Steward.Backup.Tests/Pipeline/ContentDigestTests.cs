using System.Text.Json.Nodes;
using Steward.Backup.Integrity;
using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Pipeline;

/// <summary>The plaintext digest: BLAKE3 for new backups, SHA-256 still read from manifests written before.</summary>
public sealed class ContentDigestTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly Keys _keys;
    private readonly FileSystemStorage _storage;

    public ContentDigestTests()
    {
        _keys = Keys.Create(_directory);
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });
    }

    [Fact]
    public void Blake3_matches_the_reference_test_vector_and_one_shot_hashing_across_buffer_boundaries()
    {
        // The empty input's digest from BLAKE3's reference test vectors.
        ContentHasher.Of([]).ShouldBe("blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");

        var data = TestData.Mixed(3 * 1024 * 1024 + 17);
        using var hasher = ContentHasher.Create();
        foreach (var chunk in data.Chunk(65_537))
        {
            hasher.Append(chunk);
        }

        hasher.Finish().ShouldBe(TestData.Blake3(data));
    }

    [Fact]
    public async Task The_manifest_digest_is_what_b3sum_says_of_the_plaintext_so_a_stock_tool_restore_can_be_checked()
    {
        var data = TestData.Mixed(5 * 1024 * 1024 + 3);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "zstd+age", _keys.Identity.Recipient).RunAsync(Workflows.Request());

        var b3sum = System.Text.Encoding.ASCII.GetString(await Cli.RunOkAsync("b3sum", ["--no-names"], data)).Trim();
        backup.Manifest!.PlaintextDigest.ShouldBe("blake3:" + b3sum);
    }

    [Fact]
    public void A_bare_hex_digest_is_sha256_and_equals_its_prefixed_form_and_an_unknown_algorithm_is_refused()
    {
        var data = TestData.Random(1000);
        var sha = TestData.Sha256(data);

        ContentHasher.AlgorithmOf(sha).ShouldBe("sha256");
        ContentHasher.Matches(data, sha).ShouldBeTrue();
        ContentHasher.Matches(data, "sha256:" + sha).ShouldBeTrue();
        ContentHasher.Matches(data, TestData.Blake3(data)).ShouldBeTrue();
        ContentHasher.Matches(TestData.Random(1000, seed: 1), TestData.Blake3(data)).ShouldBeFalse();
        Should.Throw<BackupIntegrityException>(() => ContentHasher.AlgorithmOf("md5:00")).Message.ShouldContain("md5");
    }

    [Theory]
    [InlineData("zstd+age")]
    [InlineData("none")]
    public async Task A_manifest_whose_plaintext_digest_does_not_match_fails_the_restore_although_the_stored_bytes_are_intact(string chain)
    {
        var data = TestData.Mixed(2 * 1024 * 1024);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, chain, _keys.Identity.Recipient).RunAsync(Workflows.Request());
        await EditManifestAsync(backup.Key, m =>
        {
            var digest = m["plaintextDigest"]!.GetValue<string>();
            m["plaintextDigest"] = digest[..^1] + (digest[^1] == '0' ? '1' : '0');
        });

        var (result, _) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Integrity, result.Failure.Message);
        result.Failure.Message.ShouldContain("does not match its manifest");
    }

    [Fact]
    public async Task A_backup_whose_manifest_has_the_format_1_sha256_digest_still_restores_and_is_still_checked()
    {
        var data = TestData.Mixed(2 * 1024 * 1024 + 5);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "zstd+age", _keys.Identity.Recipient).RunAsync(Workflows.Request());
        await EditManifestAsync(backup.Key, m =>
        {
            m.Remove("plaintextDigest");
            m["formatVersion"] = 1;
            m["plaintextSha256"] = TestData.Sha256(data);
        });

        var (restored, bytes) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);
        restored.Failure.ShouldBeNull(restored.Failure?.Message);
        bytes.ShouldBe(data);
        restored.PlaintextDigest.ShouldBe("sha256:" + TestData.Sha256(data));

        await EditManifestAsync(backup.Key, m => m["plaintextSha256"] = TestData.Sha256([.. data, 0]));
        var (refused, _) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);
        refused.Failure!.Kind.ShouldBe(StageKind.Integrity, refused.Failure.Message);
    }

    [Fact]
    public async Task A_backup_checked_by_its_zstd_frames_hashes_nothing_more_restores_identically_and_zstd_d_checks_it()
    {
        var data = TestData.Mixed(5 * 1024 * 1024 + 7);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "zstd+age", _keys.Identity.Recipient)
            .RunAsync(Workflows.Request() with { PlaintextCheckedByFrames = true });
        backup.Manifest!.PlaintextDigest.ShouldBe(ContentHasher.CompressionFrames);

        var (restored, bytes) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);
        restored.Failure.ShouldBeNull(restored.Failure?.Message);
        bytes.ShouldBe(data);

        // Without zstd first in the chain there are no frame checksums: the plaintext is hashed as before.
        var plain = await Workflows.Backup(new BytesSource(data), _storage, "age", _keys.Identity.Recipient)
            .RunAsync(Workflows.Request("b2") with { PlaintextCheckedByFrames = true });
        plain.Manifest!.PlaintextDigest.ShouldBe(TestData.Blake3(data));
    }

    [Fact]
    public async Task A_plaintext_byte_changed_inside_a_zstd_frame_is_caught_by_the_frame_checksum_although_the_stored_digest_matches()
    {
        // Random data: zstd stores it in raw blocks, so a changed byte still decodes and only the checksum can tell.
        var data = TestData.Random(3 * 1024 * 1024 + 11);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "zstd", null)
            .RunAsync(Workflows.Request() with { PlaintextCheckedByFrames = true });
        var path = Path.Combine(_directory.File("store"), backup.Key);
        var stored = await File.ReadAllBytesAsync(path);
        stored[stored.Length / 2] ^= 0x20;
        await File.WriteAllBytesAsync(path, stored);
        await EditManifestAsync(backup.Key, m => m["storedSha256"] = TestData.Sha256(stored));

        var (result, _) = await Workflows.RestoreAsync(_storage, backup.Key);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Integrity, result.Failure.Message);
        result.Failure.Message.ShouldContain("checksum");
    }

    [Fact]
    public async Task A_manifest_that_claims_frame_checksums_for_a_chain_not_starting_with_zstd_is_refused()
    {
        var data = TestData.Mixed(1024 * 1024);
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "age", _keys.Identity.Recipient).RunAsync(Workflows.Request());
        await EditManifestAsync(backup.Key, m => m["plaintextDigest"] = ContentHasher.CompressionFrames);

        var (result, bytes) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Integrity, result.Failure.Message);
        result.Failure.Message.ShouldContain("first filter of its chain is 'age'");
        bytes.ShouldBeEmpty();
    }

    public void Dispose() => _directory.Dispose();

    private async Task EditManifestAsync(string key, Action<JsonObject> edit)
    {
        var path = Path.Combine(_directory.File("store"), key + ".manifest.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        edit(manifest);
        await File.WriteAllTextAsync(path, manifest.ToJsonString());
    }
}
