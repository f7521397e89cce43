//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import VerityProtocol

// Wire names as command-line values: passed on as given, so that the server, which knows them
// all, says which are allowed.

extension SubjectKindName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension ChannelName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension CodeChannelName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension CodePurposeName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension FactKindName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension IdentityDocumentKindName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension ChangeRequestSourceName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension ChangeRequestReasonName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension ChangeRequestStatusName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

extension LinkRequestStatusName: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}
