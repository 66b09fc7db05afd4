"""Promises only approved text may make: refunds, compensation, discounts, guarantees.

A mention is not a promise: "our returns page explains how refunds work" names refunds and
commits to nothing. A promise pairs the benefit with a commitment or a grant ("we'll put the
money back on your card", "your reimbursement has been approved", "enjoy 20% off").
"""

from __future__ import annotations

from hcs.ai.intents import Intent

_COMMIT = (
    r"will|'ll|shall|going to|are (?:happy|glad|pleased) to|(?:we |i )?(?:can|could) offer|"
    r"offer\w*|giv(?:e|ing)|grant\w*|(?:has|have|'ve) (?:been )?(?:\w+ )?(?:approved|issued|"
    r"processed|arranged|added|applied|credited|authori[sz]ed|sent|initiated|started)|"
    r"(?:is|are) (?:being|on (?:its|their) way)|approved|eligible|qualif\w*|entitled|"
    r"you(?:'ll| will)? (?:get|receive|be (?:refunded|reimbursed|compensated|credited|paid))|"
    r"enjoy|here(?:'s| is| are)|use (?:the )?code|on us|as a (?:thank you|gesture|goodwill)|"
    r"make (?:it|this) up to you|take care of|cover|covering|promis\w*|guarantee\w*|"
    r"werden|wird|erhalten|bekommen|erstatten|schenken|gewähren|bieten|genießen|"
    r"allons|recevrez|recevez|offrons|offert|accord\w*|bénéficiez|bénéficier|profitez|"
    r"vamos a|recibir[aá]\w*|le devolveremos|te devolveremos|ofrecemos|regalamos|disfrute|"
    r"disfruta|aprobad[oa]|concedid[oa]|krijgt|ontvangt|riceverà|riceverai|hier ist|"
    r"voici|aquí tiene|aquí está|ecco|offriamo|ofrecemos|le ofrecemos|bieten ihnen"
)
# A first-person verb of paying back is a commitment by itself ("nous vous remboursons").
_WE_PAY_BACK = (
    r"we(?: will|'ll|'ve| have)?(?: (?!not\b|never\b|cannot\b|unable\b)\w+){0,3} "
    r"(?:refund|reimburs|compensat|credit|repa[iy])\w*|"
    r"(?:serez|sera|seront|êtes|est) (?:\w+ )?rembours\w*|(?:wird|werden) (?:\w+ )?"
    r"(?:zurück)?erstattet|ser[aá]n? (?:\w+ )?reembolsad\w*|(?:le |te )?abonaremos|"
    r"(?:will|'ll) be (?:\w+ )?(?:refunded|reimbursed|credited|repaid|paid back|compensated)|"
    r"nous (?:vous )?(?:\w+ )?(?:rembours|dédommag|indemnis|recrédit)\w*|rembourserons|"
    r"wir (?:\w+ )?(?:erstatten|entschädigen|vergüten|zahlen \w+ zurück|schreiben \w+ gut)|"
    r"(?:le|te|les|os) (?:reembols|devolve|compens|abon)\w*|reembolsaremos|"
    r"vi rimbors\w*|rimborseremo|wij (?:\w+ )?(?:terugbetal|vergoed)\w*"
)
# Money going back to the customer, in other words: "the charge will be reversed", "you won't
# pay a penny", "den Kaufpreis bekommen Sie zurück".
_MONEY = (
    r"cost|costs|charge[ds]?|price|amount|money|payment|what you paid|the sum|fee|fees|"
    r"purchase price|kaufpreis|betrag|geld|preis|kosten|argent|montant|prix|paiement|frais|"
    r"dinero|importe|precio|coste|pago|cargo|overpay\w*|overcharg\w*|the difference|"
    r"premiums?|(?:the )?excess|deposit|settlement|payout|"
    r"(?:the )?extra (?:you paid|amount|charge)|(?:what |the \w+ )?you(?:'ve| have)? (?:over)?paid|"
    r"\d+(?:[.,]\d+)? ?(?:gbp|eur|usd|chf|euros?|pounds?|dollars?)|[€£$] ?\d+"
)
_BACK = (
    r"return\w*|revers\w*|sen(?:d|ding) back|giv(?:e|ing) back|pa(?:y|ying) back|back to you|"
    r"hand\w* back|paid out|pay out|on (?:its|the) way to you|"
    r"back (?:in|into|on|onto|to) your|"
    r"cancel\w*|void\w*|waiv\w*|cover\w*|absorb\w*|zurück\w*|storn\w*|rendr\w*|"
    r"restitu\w*|annul\w*|reintegr\w*|devolv\w*|anul\w*|reponemos|bekommen sie"
)
_NOT_PAYING = (
    r"(?:won't|will not|don't|do not|never) (?:have to )?(?:pay|be charged)|not (?:be )?charged|"
    r"out of pocket|(?:a|one) (?:penny|cent|dime)|at our expense|on our dime|free of charge|"
    r"müssen (?:sie )?nichts (?:bezahlen|zahlen)|kostet sie nichts|vous ne paierez rien|"
    r"à nos frais|no (?:pagará|tendrá que pagar) nada|corre de nuestra cuenta|"
    r"no need to pay|nothing to pay|(?:this|it)(?:'s| is) on us|on the house|"
    r"(?:see|receive|get|find) (?:the |your )?(?:money|payment|funds|amount|payout)"
    r" (?:\w+ ){0,3}in your (?:bank )?account|"
    r"(?:is |are |we're |we are )?(?:settl\w*|pay\w* out) (?:for )?(?:your |the )?(?:claim|"
    r"damage|repairs?|loss|bill)|agreed to pay|(?:payment|payout|money|funds|settlement) "
    r"(?:has been |have been |is |are |will be |'s )?released|prendrons en charge|"
    r"(?:sera|seront) pris en charge|übernehmen (?:wir )?die kosten|cubriremos|nos haremos cargo"
)
COMMITMENTS = (
    Intent(
        "refunds",
        "refunds, money back or reimbursements",
        objects=(_MONEY,),
        cues=(_BACK,),
        phrases=(_NOT_PAYING,),
        window=50,
        negatable=False,
    ),
    Intent(
        "refunds",
        "refunds, money back or reimbursements",
        objects=(
            r"refund\w*|reimburs\w*|money back|(?:every|each) (?:cent|penny)|"
            r"(?:back|returned) (?:to|on|onto|into) your (?:card|account|bank|wallet)|"
            r"(?:put|send|return|pay|give) (?:the |your |it )?(?:money|amount|payment|it)? ?back|"
            r"full amount|the amount you paid|what you paid|rückerstatt\w*|erstatt\w*|"
            r"geld zurück|rembours\w*|argent|reembols\w*|devol\w*|dinero|terugbetal\w*|"
            r"rimbors\w*|reintegr\w*|rendr\w* l'argent|credited|recrédit\w*|rebates?|"
            r"repa(?:id|yments?)|paid back",
        ),
        cues=(_COMMIT,),
        phrases=(_WE_PAY_BACK,),
    ),
    Intent(
        "compensation",
        "compensation, credits, waived fees or goodwill gestures",
        objects=(
            r"compensat\w*|goodwill|waiv\w*|account credit|(?:store |a |some )?credit|"
            r"credited|free of charge|at no (?:extra )?(?:cost|charge)|no charge|on the house|"
            r"cover the (?:cost|costs|fee|fees|shipping)|for free|entschädig\w*|kulanz\w*|"
            r"gutschrift\w*|kostenlos\w*|gratis|indemni\w*|dédommag\w*|geste commercial|"
            r"avoir|gratuit\w*|compensaci[oó]n\w*|indemniza\w*|sin coste|sin cargo|"
            r"schadevergoeding|risarciment\w*",
        ),
        cues=(_COMMIT,),
        phrases=(
            r"we(?:'ve| have| will|'ll|'re| are)? (?:\w+ )?(?:waiv\w*|writ\w* off|scrap\w*)|"
            r"(?:is|are|'s|will be) (?:on us|on the house|free of charge)|"
            r"(?:est|sont) offerte?s?|(?:ist|sind|wird) (?:gratis|kostenlos)|"
            r"(?:es|son|será) gratis",
        ),
    ),
    Intent(
        "discounts",
        "discounts, vouchers, coupons or special prices",
        objects=(
            r"discount\w*|vouchers?|coupons?|promo(?:tion(?:al)?)? codes?|\d+ ?% off|"
            r"\d+ ?(?:percent|per cent) off|special (?:price|offer|deal)s?|"
            r"free (?:shipping|delivery|upgrades?|gifts?|trials?|month|returns)|ships? free|"
            r"\d+ (?:off|de descuento|de réduction|rabatt)|"
            r"(?:half|50 ?%) price|rabatt\w*|gutschein\w*|preisnachlass\w*|prozent|réduction\w*|"
            r"remises?|bons? de réduction|code promo|descuentos?|cupones?|cup[oó]n|"
            r"korting\w*|scont\w*",
        ),
        cues=(_COMMIT, r"\d+ ?%|save|sparen|économisez|ahorre|ahorra"),
        phrases=(
            r"ships? (?:for )?free|(?:delivery|shipping) (?:is|will be) (?:free|on us)|"
            r"(?:knock\w*|tak\w*|shav\w*|slash\w*|cut\w*) (?:\w+ ){0,3}off (?:your|the)|"
            r"(?:a |one )?(?:fifth|quarter|third|half|tenth) off|"
            r"use (?:the )?(?:promo |discount |voucher |coupon )?code [a-z0-9-]*\d|"
            r"(?:reduced|lower|cheaper|special|loyalty|discounted) (?:rate|price|fee|tariff)s?",
        ),
    ),
    Intent(
        "discounts",
        "discounts, vouchers, coupons or special prices",
        objects=(
            r"(?:your |the )?(?:premiums?|excess|bill|rate|tariff|price|fees?|subscription|"
            r"prima|cotisation|beitrag|tarif)",
        ),
        cues=(
            r"lower\w*|drop\w*|reduc\w*|cut(?:ting)?|decreas\w*|bring\w* down|to zero|"
            r"bajamos|bajar\w*|rebaj\w*|baiss\w*|senk\w*|ermäßig\w*",
        ),
        window=40,
    ),
    Intent(
        "guarantees",
        "guarantees or promises about outcomes",
        objects=(
            r"guarant\w*|warrant(?:y|ies)|promise[ds]?|100 ?% (?:sure|certain|guaranteed)|"
            r"rest assured|you have my word|definitely|certainly|garant\w*|versprech\w*|"
            r"zusicher\w*|promett\w*|promesse|prometemos|prometo|promesa|beloof\w*",
        ),
        cues=(
            r"we|i|will|'ll|wir|ich|nous|je|le|te|ser[aá]|estar[aá]|arrive\w*|deliver\w*|"
            r"work|fix\w*|solve\w*|resolv\w*|approv\w*",
        ),
        phrases=(
            r"we guarantee|i guarantee|guaranteed to|is guaranteed|we promise|i promise|"
            r"rest assured|you have my word|will definitely|will certainly|"
            r"wir garantieren|ich verspreche|garantiert|nous garantissons|je vous (?:le )?promets|"
            r"garanti(?:e)? (?:de|que)|garantizamos|le prometo|te prometo|garantizado",
        ),
        window=40,
    ),
)
