using Steward.Security;

namespace Steward.Domain.Tests.Security;

public sealed class IdentifiersTests
{
    [Theory]
    [InlineData("5d2f7a3e-3c1b-4e0a-9d57-8f0a1c2b3d4e")]
    [InlineData("my_db.v2")]
    [InlineData("A")]
    public void Platform_ids_are_accepted(string id) => Identifiers.Problem(id).ShouldBeNull();

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData(".", "must start with a letter or a digit")]
    [InlineData("..", "must start with a letter or a digit")]
    [InlineData(".hidden", "must start with a letter or a digit")]
    [InlineData("-rf", "must start with a letter or a digit")]
    [InlineData("a..b", "must not contain '..'")]
    [InlineData("a/../b", "may contain only letters, digits, '-', '_' and '.'")]
    [InlineData("a/b", "may contain only letters, digits, '-', '_' and '.'")]
    [InlineData("../etc", "may contain only letters, digits, '-', '_' and '.'")]
    [InlineData("x;rm -rf", "may contain only letters, digits, '-', '_' and '.'")]
    [InlineData("a\0b", "may contain only letters, digits, '-', '_' and '.'")]
    [InlineData("ümlaut", "may contain only letters, digits, '-', '_' and '.'")]
    public void Ids_that_could_be_paths_or_shell_words_are_refused(string id, string problem) => Identifiers.Problem(id).ShouldBe(problem);

    [Fact]
    public void Overlong_ids_are_refused() => Identifiers.Problem(new string('a', 129)).ShouldBe("must be at most 128 characters");

    [Fact]
    public void Generated_passwords_are_long_distinct_and_uri_safe()
    {
        var passwords = Enumerable.Range(0, 100).Select(_ => Secrets.Password()).ToList();
        passwords.Distinct().Count().ShouldBe(100);
        passwords.ShouldAllBe(p => p.Length == 32 && p.All(char.IsAsciiLetterOrDigit));
        Secrets.Token().ShouldAllBe(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
    }
}
