import { Component, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { rpcBus } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useBus, useService } from "@web/core/utils/hooks";

/**
 * Systray icon of the conversations inbox: the number of threads of
 * the user's clinics with unread replies; a click opens the inbox. The count
 * is read again after every screen change, after every change made to a
 * conversation (an answer, a close) and every minute (replies of patients).
 */
export class ClinicSmsConversationSystray extends Component {
    static template = "clinic_sms_reminders.ConversationSystray";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ allowed: false, count: 0 });
        onWillStart(async () => {
            this.state.allowed = await user.hasGroup(
                "clinic_sms_reminders.group_clinic_sms_user"
            );
            await this.refresh();
        });
        useBus(this.env.bus, "ACTION_MANAGER:UI-UPDATED", () => this.refresh());
        useBus(rpcBus, "RPC:RESPONSE", (ev) => {
            const { model, method } = ev.detail.data.params || {};
            if (model === "clinic.sms.conversation" && method !== "clinic_unread_count") {
                this.refresh();
            }
        });
        const interval = browser.setInterval(() => this.refresh(), 60000);
        onWillUnmount(() => browser.clearInterval(interval));
    }

    async refresh() {
        if (!this.state.allowed) {
            return;
        }
        this.state.count = await this.orm.call(
            "clinic.sms.conversation",
            "clinic_unread_count",
            []
        );
    }

    onClick() {
        this.action.doAction("clinic_sms_reminders.clinic_sms_conversation_action", {
            additionalContext: this.state.count ? { search_default_unread: 1 } : {},
            clearBreadcrumbs: true,
        });
    }
}

registry
    .category("systray")
    .add("clinic_sms_reminders.ConversationSystray", {
        Component: ClinicSmsConversationSystray,
    }, { sequence: 30 });
