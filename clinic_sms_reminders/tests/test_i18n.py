from pathlib import Path

import polib

from odoo.tests import TransactionCase
from odoo.tools.translate import TranslationModuleReader

from ..tools import placeholders, segments

I18N = Path(__file__).resolve().parent.parent / "i18n"
ADDON = "clinic_sms_reminders"


class TestTranslations(TransactionCase):
    def test_pot_is_up_to_date(self):
        """R-8.3: the .pot holds every translatable term of the addon."""
        reader = TranslationModuleReader(self.cr, modules=[ADDON])
        # demo records are not translated: the .pot is made without demo data
        demo_xml = (I18N.parent / "demo" / "clinic_sms_demo.xml").read_text()

        def from_demo(res_id):
            name = str(res_id).split(".")[-1].removesuffix("_product_template")
            return f'id="{name}"' in demo_xml

        terms = {
            source
            for module, _t, _n, res_id, source, _v, _c in reader
            if module == ADDON and not from_demo(res_id)
        }
        pot = {entry.msgid for entry in polib.pofile(str(I18N / f"{ADDON}.pot"))}
        self.assertFalse(terms - pot, "terms missing from the .pot: regenerate it")
        self.assertFalse(pot - terms, "stale terms in the .pot: regenerate it")

    def test_french_complete(self):
        """R-8.3: fr.po translates every term, nothing fuzzy or empty."""
        pot = {entry.msgid for entry in polib.pofile(str(I18N / f"{ADDON}.pot"))}
        french = polib.pofile(str(I18N / "fr.po"))
        translated = {
            entry.msgid
            for entry in french
            if entry.msgstr.strip()
            and "fuzzy" not in entry.flags
            and not entry.obsolete
        }
        self.assertFalse(pot - translated, "untranslated or fuzzy French entries")

    def test_default_templates_in_french_fit_one_sms(self):
        """R-8.3 R-2.7 R-3.4: default templates exist in French and English and
        fit the clinic's single SMS in both languages."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            [ADDON], ["fr_FR"], overwrite=True
        )
        template = self.env.ref(f"{ADDON}.template_reminder")
        english = template.with_context(lang="en_US").body
        french = template.with_context(lang="fr_FR").body
        self.assertNotEqual(english, french)
        for body in (english, french):
            info = segments.count(placeholders.worst_case(body), smart=True)
            self.assertEqual(info.parts, 1, body)
