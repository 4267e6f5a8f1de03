using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Steward.Backup.Filters.Age;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Filters;

/// <summary>
/// Age keys and headers come from files and storage objects an attacker may have written: parsing them either
/// succeeds or fails the documented way (Bech32: false; header: <see cref="BackupIntegrityException"/>).
/// </summary>
public sealed class AgeParsingProperties
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

    private static readonly Gen<byte[]> Bytes = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();

    /// <summary>A well-formed one-stanza header (X25519 share, 32-byte body, 32-byte MAC), as age writes it.</summary>
    private static readonly byte[] ValidHeader = Encoding.ASCII.GetBytes(
        "age-encryption.org/v1\n-> X25519 " + B64(32, 1) + "\n" + B64(32, 2) + "\n--- " + B64(32, 3) + "\n");

    private static readonly string[] HeaderTokens =
        ["age-encryption.org/v1", "\n", "-> ", "X25519 ", "--- ", " ", B64(32, 4), B64(48, 5), "AAAA", "A", "=", "!", "\0", "\u00e9"];

    [Property(MaxTest = 300)]
    public Property Bech32_round_trips_in_both_cases() =>
        Prop.ForAll(Arb.From(Gen.Elements("age", "age-secret-key-", "a").SelectMany(hrp => Bytes.Where(b => b.Length <= 40).Select(data => (hrp, data)))), ((string Hrp, byte[] Data) x) =>
        {
            var encoded = Bech32.Encode(x.Hrp, x.Data);
            foreach (var text in new[] { encoded, encoded.ToUpperInvariant() })
            {
                Bech32.TryDecode(text, out var hrp, out var data).ShouldBeTrue(text);
                hrp.ShouldBe(x.Hrp);
                data.ShouldBe(x.Data);
            }
        });

    [Property(MaxTest = 300)]
    public Property Bech32_detects_any_one_changed_character() =>
        Prop.ForAll(
            Arb.From(Bytes.Where(b => b.Length is > 0 and <= 40).SelectMany(data => Gen.Choose(0, 1000).SelectMany(at => Gen.Choose(1, 31).Select(shift => (data, at, shift))))),
            ((byte[] Data, int At, int Shift) x) =>
            {
                var encoded = Bech32.Encode("age", x.Data);
                var position = 4 + (x.At % (encoded.Length - 4));
                var changed = encoded[..position] + Charset[(Charset.IndexOf(encoded[position], StringComparison.Ordinal) + x.Shift) % 32] + encoded[(position + 1)..];
                Bech32.TryDecode(changed, out _, out _).ShouldBeFalse(changed);
            });

    [Property(MaxTest = 1000)]
    public void Bech32_never_throws_on_any_text(string text)
    {
        if (text is not null)
        {
            Bech32.TryDecode(text, out _, out _);
            Bech32.TryDecode("age1" + text, out _, out _);
        }
    }

    [Property(MaxTest = 500)]
    public Property An_age_header_parses_or_is_refused_as_malformed() =>
        Prop.ForAll(Arb.From(Gen.Elements(HeaderTokens).ArrayOf().Select(t => Encoding.Latin1.GetBytes(string.Concat(t)))), (byte[] header) => ShouldParseOrRefuse(header));

    [Property(MaxTest = 500)]
    public Property A_damaged_valid_header_parses_or_is_refused_as_malformed() =>
        Prop.ForAll(
            Arb.From(Gen.Choose(0, ValidHeader.Length - 1).SelectMany(at => Gen.Choose(0, 255).SelectMany(b => Gen.Choose(0, 2).Select(how => (at, b, how))))),
            ((int At, int Byte, int How) x) =>
            {
                var damaged = x.How switch
                {
                    0 => ValidHeader[..x.At],
                    1 => [.. ValidHeader[..x.At], (byte)x.Byte, .. ValidHeader[(x.At + 1)..]],
                    _ => [.. ValidHeader[..x.At], (byte)x.Byte, .. ValidHeader[x.At..]],
                };
                ShouldParseOrRefuse(damaged);
            });

    [Fact]
    public void The_valid_header_of_these_properties_parses()
    {
        var header = AgeHeader.Parse(ValidHeader);
        header.Stanzas.Single().Type.ShouldBe("X25519");
        header.Mac.Length.ShouldBe(32);
    }

    private static void ShouldParseOrRefuse(byte[] header)
    {
        try
        {
            AgeHeader.Parse(header);
        }
        catch (BackupIntegrityException ex)
        {
            ex.Message.ShouldStartWith("age: the header is malformed");
        }
    }

    private static string B64(int length, byte fill) => Convert.ToBase64String(Enumerable.Repeat(fill, length).ToArray()).TrimEnd('=');
}
