using System.Text;
using Steward.Backup.Filters.Age;
using Steward.Backup.Pipeline;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Filters;

public sealed class AgeInteropTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly byte[] _data = TestData.Random(3 * 65536 + 5);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65536)]
    [InlineData(3 * 65536 + 5)]
    public async Task Encrypted_output_decrypts_with_the_age_cli(int size)
    {
        var keys = Keys.Create(_directory);
        var plaintext = _data[..size];

        var encrypted = await FilterHarness.EncodeAsync(Encryptor(keys.Identity.Recipient), plaintext);

        Encoding.ASCII.GetString(encrypted, 0, 22).ShouldBe("age-encryption.org/v1\n");
        (await Cli.RunOkAsync("age", ["-d", "-i", keys.IdentityFile], encrypted)).ShouldBe(plaintext);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65536)]
    [InlineData(2 * 65536 + 1)]
    public async Task Age_cli_output_decrypts_with_the_age_filter(int size)
    {
        var keys = Keys.Create(_directory);
        var plaintext = _data[..size];

        var encrypted = await Cli.RunOkAsync("age", ["-r", keys.Identity.Recipient.ToString()], plaintext);

        (await FilterHarness.DecodeAsync(Decryptor(keys.Identity), encrypted)).ShouldBe(plaintext);
    }

    [Fact]
    public async Task Identity_generated_by_age_keygen_parses_to_the_same_recipient()
    {
        var keyFile = _directory.File("keygen.txt");
        await Cli.RunOkAsync("age-keygen", ["-o", keyFile]);
        var expected = Encoding.ASCII.GetString(await Cli.RunOkAsync("age-keygen", ["-y", keyFile])).Trim();

        var identity = AgeIdentity.ParseFile(await File.ReadAllTextAsync(keyFile)).Single();

        identity.Recipient.ToString().ShouldBe(expected);
        AgeRecipient.Parse(expected).ShouldBe(identity.Recipient);
        identity.ToString().ShouldNotContain("AGE-SECRET-KEY", Case.Insensitive);
    }

    [Fact]
    public async Task Multiple_recipients_can_each_decrypt_with_the_age_cli()
    {
        var first = Keys.Create(_directory);
        var second = AgeIdentity.Generate();
        var secondFile = _directory.File("second.txt");
        await File.WriteAllTextAsync(secondFile, second.ExportSecretKey() + "\n");

        var encrypted = await FilterHarness.EncodeAsync(new AgeFilter([first.Identity.Recipient, second.Recipient], []), _data);

        (await Cli.RunOkAsync("age", ["-d", "-i", secondFile], encrypted)).ShouldBe(_data);
    }

    [Fact]
    public async Task Flipped_payload_byte_fails_with_integrity_error()
    {
        var keys = Keys.Create(_directory);
        var encrypted = await Cli.RunOkAsync("age", ["-r", keys.Identity.Recipient.ToString()], _data);
        encrypted[^70_000] ^= 1;

        var error = await Should.ThrowAsync<BackupIntegrityException>(() => FilterHarness.DecodeAsync(Decryptor(keys.Identity), encrypted));

        error.Message.ShouldContain("failed authentication");
    }

    [Fact]
    public async Task Modified_header_fails_with_integrity_error()
    {
        var keys = Keys.Create(_directory);
        var other = AgeIdentity.Generate();
        var encrypted = await FilterHarness.EncodeAsync(new AgeFilter([keys.Identity.Recipient, other.Recipient], []), _data);
        var text = Encoding.ASCII.GetString(encrypted);
        var secondStanza = text.IndexOf("-> X25519 ", 30, StringComparison.Ordinal);
        encrypted[secondStanza + 12] = (byte)(encrypted[secondStanza + 12] == (byte)'A' ? 'B' : 'A');

        var error = await Should.ThrowAsync<BackupIntegrityException>(() => FilterHarness.DecodeAsync(Decryptor(keys.Identity), encrypted));

        error.Message.ShouldContain("header MAC");
    }

    [Theory]
    [InlineData(65536 + 16)]
    [InlineData(1000)]
    public async Task Truncated_file_fails_with_integrity_error(int cut)
    {
        var keys = Keys.Create(_directory);
        var encrypted = await FilterHarness.EncodeAsync(Encryptor(keys.Identity.Recipient), _data);

        await Should.ThrowAsync<BackupIntegrityException>(() => FilterHarness.DecodeAsync(Decryptor(keys.Identity), encrypted[..^cut]));
    }

    [Fact]
    public void Malformed_identity_is_rejected_without_echoing_it()
    {
        var secret = AgeIdentity.Generate().ExportSecretKey();
        var broken = secret[..^1] + (secret[^1] == 'Q' ? 'P' : 'Q');

        var error = Should.Throw<FormatException>(() => AgeIdentity.Parse(broken));

        error.Message.ShouldNotContain(broken[16..]);
        AgeIdentity.Parse(secret).ExportSecretKey().ShouldBe(secret);
    }

    private static AgeFilter Encryptor(AgeRecipient recipient) => new([recipient], []);

    private static AgeFilter Decryptor(AgeIdentity identity) =>
        AgeFilter.FromParameters(new Dictionary<string, string> { ["recipients"] = identity.Recipient.ToString() }, [identity]);

    public void Dispose() => _directory.Dispose();
}
