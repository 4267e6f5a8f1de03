using Steward.Server.Configuration;
using Steward.Server.Http;

namespace Steward.Server.Tests.Units;

public sealed class JsonCanonicalTests
{
    [Fact]
    public void Key_order_and_white_space_do_not_make_parameters_different()
    {
        JsonCanonical.Normalize("""{ "b": 1, "a": {"y": true, "x": [2, 1]} }""").ShouldBe("""{"a":{"x":[2,1],"y":true},"b":1}""");
        JsonCanonical.Normalize(null).ShouldBe("{}");
        JsonCanonical.Normalize("   ").ShouldBe("{}");
    }

    [Fact]
    public void Update_parameters_are_merged_over_the_current_ones()
    {
        JsonCanonical.Merge("""{"a":1,"b":2}""", """{"b":3,"c":4}""").ShouldBe("""{"a":1,"b":3,"c":4}""");
        JsonCanonical.Merge("""{"a":1}""", null).ShouldBe("""{"a":1}""");
    }

    [Theory]
    [InlineData("20000-19999")]
    [InlineData("80-90")]
    [InlineData("20000")]
    [InlineData("a-b")]
    [InlineData("20000-70000")]
    public void An_invalid_port_range_is_refused_at_start(string range)
    {
        Should.Throw<ArgumentException>(() => StewardOptions.FromEnvironment(["--data-dir", "/tmp/x", "--port-range", range]))
            .Message.ShouldContain(range);
    }

    [Fact]
    public void Command_line_options_override_the_defaults()
    {
        var options = StewardOptions.FromEnvironment(["--data-dir", "/tmp/steward-x", "--port-range", "40000-40100", "--listen", "http://127.0.0.1:1234"]);
        options.DataDir.ShouldBe("/tmp/steward-x");
        options.InstancePorts.ShouldBe((40000, 40100));
        options.Listen.ShouldBe("http://127.0.0.1:1234");
        options.StateFile.ShouldBe("/tmp/steward-x/steward.db");
    }
}
