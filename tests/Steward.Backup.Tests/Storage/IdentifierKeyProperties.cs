using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Steward.Backup.Manifest;
using Steward.Backup.Storage;
using Steward.Security;

namespace Steward.Backup.Tests.Storage;

/// <summary>
/// Every id <see cref="Identifiers"/> accepts at provisioning works everywhere an id ends up: as the first
/// segment of a backup's storage key (<c>{instance}/{backup}</c> and its manifest), as a URL path segment, as
/// a file name. Ids are drawn from an alphabet rich in the characters that break those uses.
/// </summary>
public sealed class IdentifierKeyProperties
{
    private const string Allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    private const string Hostile = "aZ09-_../\\ \t\0:;$%?#é\u00a0\ud800~*";

    /// <summary>The key BackupService gives a backup of <paramref name="instanceId"/>.</summary>
    private static string BackupKey(string instanceId) => $"{instanceId}/bk-20261129T225017-k3v9q2";

    [Property(MaxTest = 2000)]
    public Property An_accepted_id_is_a_valid_storage_key_segment_url_segment_and_file_name() =>
        Prop.ForAll(Arb.From(Gen.Elements(Hostile.ToCharArray()).ArrayOf().Select(c => new string(c))), (string id) =>
        {
            if (Identifiers.Problem(id) is not null)
            {
                return;
            }

            ShouldWorkEverywhere(id);
        });

    [Property(MaxTest = 1000)]
    public Property Ids_shaped_like_platform_ids_are_accepted_and_work_everywhere() =>
        Prop.ForAll(
            Arb.From(Gen.Elements(Allowed[..62].ToCharArray()).SelectMany(first => Gen.Elements(Allowed.ToCharArray()).ArrayOf().Select(rest => first + new string(rest)))
                .Where(id => id.Length <= Identifiers.MaxLength && !id.Contains("..", StringComparison.Ordinal))),
            (string id) =>
            {
                Identifiers.Problem(id).ShouldBeNull(id);
                ShouldWorkEverywhere(id);
            });

    [Property(MaxTest = 1000)]
    public void Any_string_gets_an_answer_never_an_exception(string id) => Identifiers.Problem(id);

    [Theory]
    [InlineData(".hidden", "must start with a letter or a digit")]
    [InlineData("-rf", "must start with a letter or a digit")]
    [InlineData("_x", "must start with a letter or a digit")]
    [InlineData("a..b", "must not contain '..'")]
    public void Ids_that_pass_a_character_check_but_break_a_storage_key_or_a_command_line_are_refused(string id, string problem)
    {
        Identifiers.Problem(id).ShouldBe(problem);
    }

    private static void ShouldWorkEverywhere(string id)
    {
        StorageKey.IsValid(BackupKey(id)).ShouldBeTrue(id);
        StorageKey.IsValid(ManifestStore.ManifestKey(BackupKey(id))).ShouldBeTrue(id);
        Uri.EscapeDataString(id).ShouldBe(id);
        Path.GetFileName(id).ShouldBe(id);
        id.ShouldNotStartWith("-");
        id.ShouldNotStartWith(".");
    }
}
