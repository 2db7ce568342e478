import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useDebounced } from "@web/core/utils/timing";
import { TextField, textField } from "@web/views/fields/text/text_field";

import { useEffect } from "@odoo/owl";

/** Milliseconds of typing pause before the text is sent to the server counter. */
export const LIVE_DELAY = 120;

/**
 * Text of an SMS template that the form counts while it is typed:
 * after a short pause in typing, the text is committed to the record, so the
 * form's onchange recomputes the server's own counter (characters left,
 * parts, encoding, the too-long warning) and the preview from the text being
 * edited, without waiting for the field to lose focus. The numbers are the
 * server's, so they are the ones the save-time check uses.
 *
 * It also offers the template's elements (the options of the record's
 * ``insert_placeholder`` field) and inserts the chosen one at the cursor of
 * the text, replacing the selected text if any.
 */
export class ClinicSmsBodyField extends TextField {
    static template = "clinic_sms_reminders.ClinicSmsBodyField";

    setup() {
        super.setup();
        this.commitLive = useDebounced(() => this.commit(), LIVE_DELAY);
        useEffect(
            (el) => {
                if (!el) {
                    return;
                }
                const onInput = () => this.commitLive();
                el.addEventListener("input", onInput);
                return () => el.removeEventListener("input", onInput);
            },
            () => [this.textareaRef.el]
        );
    }

    get elementsId() {
        return `${this.props.id || this.props.name}_elements`;
    }

    get elementsLabel() {
        return _t("Elements");
    }

    get elementOptions() {
        return this.props.record.fields.insert_placeholder?.selection || [];
    }

    /** Let the field's own input hook commit the typed text, as a blur would. */
    commit() {
        const el = this.textareaRef.el;
        if (el && el.isConnected) {
            el.dispatchEvent(new Event("change"));
        }
    }

    /** Insert ``{name}`` of the chosen element where the cursor of the text is. */
    onElementChange(ev) {
        const name = ev.target.value;
        ev.target.value = "";
        const el = this.textareaRef.el;
        if (!name || !el) {
            return;
        }
        // a textarea keeps its selection when it loses the focus
        const start = el.selectionStart ?? el.value.length;
        const end = el.selectionEnd ?? start;
        el.focus();
        el.setRangeText(`{${name}}`, start, end, "end");
        el.dispatchEvent(new InputEvent("input"));
        this.commit();
    }
}

export const clinicSmsBodyField = {
    ...textField,
    component: ClinicSmsBodyField,
    displayName: _t("SMS text with live counter"),
    supportedTypes: ["text"],
};

registry.category("fields").add("clinic_sms_body", clinicSmsBodyField);
