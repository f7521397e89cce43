//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What the case system keeps in Verity about a person so that a portal account can be linked to
/// them (procedure 003): the date of birth, the ZIP code and the cases. The date of birth, the
/// ZIP code and the case numbers are only ever compared for equality, so only their keyed MACs
/// are kept; the name and the counties are shown to caseworkers, so they are kept in clear.
package struct LinkFacts: Equatable, Codable, Sendable {
    /// The person's name as the queue shows it.
    package var registrantName: String
    package var dateOfBirthMAC: String
    package var zipCodeMAC: String
    /// An active customer privacy record: a county's policy rejects automatic linking.
    package var customerPrivacyActive: Bool
    package var cases: [LinkCase]
    /// The pepper key the MACs were made with.
    package var keyID: String

    package init(registrantName: String, dateOfBirthMAC: String, zipCodeMAC: String, customerPrivacyActive: Bool, cases: [LinkCase], keyID: String) {
        self.registrantName = registrantName
        self.dateOfBirthMAC = dateOfBirthMAC
        self.zipCodeMAC = zipCodeMAC
        self.customerPrivacyActive = customerPrivacyActive
        self.cases = cases
        self.keyID = keyID
    }

    /// The counties whose queue a request goes to: where the person is the primary applicant and
    /// not permanently out of the home, each once, in the order of the cases.
    package var queueCounties: [String] {
        var seen = Set<String>()
        return cases.filter { $0.receivesRequests && seen.insert($0.county).inserted }.map(\.county)
    }

    /// Whether a county's policy keeps this person from being linked automatically.
    package var policyHolds: [LinkRequest.Hold] {
        (cases.contains(where: \.childrenServicesActive) ? [.childrenServices] : []) + (customerPrivacyActive ? [.customerPrivacy] : [])
    }
}

/// One case of a person, as the link decision needs it.
package struct LinkCase: Equatable, Codable, Sendable {
    /// The county's name, folded to capitals and single spaces (`LOS ANGELES`).
    package var county: String
    package var caseNumberMAC: String
    /// The last three characters of the case number, for a caseworker to tell cases apart.
    package var caseNumberHint: String
    package var primaryApplicant: Bool
    package var permanentlyOutOfHome: Bool
    /// An active Children Services program on the case: a county's policy rejects automatic linking.
    package var childrenServicesActive: Bool

    package init(
        county: String, caseNumberMAC: String, caseNumberHint: String, primaryApplicant: Bool, permanentlyOutOfHome: Bool,
        childrenServicesActive: Bool
    ) {
        self.county = county
        self.caseNumberMAC = caseNumberMAC
        self.caseNumberHint = caseNumberHint
        self.primaryApplicant = primaryApplicant
        self.permanentlyOutOfHome = permanentlyOutOfHome
        self.childrenServicesActive = childrenServicesActive
    }

    /// Whether the county of this case gets the person's link requests.
    package var receivesRequests: Bool { primaryApplicant && !permanentlyOutOfHome }
}
