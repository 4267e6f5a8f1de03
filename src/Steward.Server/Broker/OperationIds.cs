using Steward.Security;

namespace Steward.Server.Broker;

/// <summary>Identifiers Steward mints.</summary>
internal static class OperationIds
{
    public static string NewOperation() => "op-" + Secrets.Token(16);

    public static string NewInternalInstance() => "i" + Secrets.Token(11);

    public static string NewBindingUser() => "u" + Secrets.Token(15);
}
